import Type from 'typebox';
import { GRID_LEVELS } from './locate.js';
import { IsoTime, nullable } from '../http/schemas.js';

export const GridLevelSchema = Type.Enum(GRID_LEVELS, { description: 'county | town | village | grid' });

export const GridProperties = Type.Object(
  {
    id: Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9][A-Za-z0-9._:-]*$' }),
    name: Type.String({ minLength: 1, maxLength: 200 }),
    nameZh: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    level: GridLevelSchema,
    parentId: Type.Optional(nullable(Type.String({ minLength: 1, maxLength: 128 }))),
  },
  { additionalProperties: true, description: 'other properties are accepted and ignored' },
);

/** Coordinates are checked in code (rings closed, ≥ 4 positions, lon/lat ranges) so each problem gets its exact path. */
export const GridGeometry = Type.Object({
  type: Type.Enum(['Polygon', 'MultiPolygon'] as const),
  coordinates: Type.Array(Type.Unknown(), { minItems: 1, description: 'GeoJSON Polygon or MultiPolygon coordinates, WGS84 lon/lat' }),
});

export const GridFeature = Type.Object({
  type: Type.Literal('Feature'),
  properties: GridProperties,
  geometry: GridGeometry,
});

export const GridFeatureCollection = Type.Object(
  {
    type: Type.Literal('FeatureCollection'),
    features: Type.Array(GridFeature, { minItems: 1, maxItems: 10_000 }),
  },
  { description: 'GeoJSON FeatureCollection of grid polygons; features upsert by properties.id into a new grid version' },
);
export type GridFeatureCollection = Type.Static<typeof GridFeatureCollection>;

export const GridImportResult = Type.Object(
  {
    version: Type.Integer({ description: 'the grid version now in force: a new one when anything changed, else the previous one' }),
    imported: Type.Integer({ description: 'features in the file' }),
    created: Type.Integer({ description: 'grids new to the county' }),
    updated: Type.Integer({ description: 'grids whose name, level, parent or boundary changed: each gets a new revision' }),
    unchanged: Type.Integer(),
    devicesMoved: Type.Integer({ description: 'registered devices placed in another grid or town by the new boundaries' }),
    workersMoved: Type.Integer({ description: 'grid workers whose town changed (their grid moved under another town)' }),
  },
  { additionalProperties: false },
);
export type GridImportResult = Type.Static<typeof GridImportResult>;

export const PathEntryJson = Type.Object(
  { id: Type.String(), level: Type.String(), name: Type.String(), nameZh: nullable(Type.String()) },
  { additionalProperties: false },
);

export const GridSummaryJson = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    nameZh: nullable(Type.String()),
    level: GridLevelSchema,
    parentId: nullable(Type.String()),
    version: Type.Integer({ description: 'the grid version this state of the grid dates from' }),
    bbox: Type.Array(Type.Number(), { minItems: 4, maxItems: 4, description: '[minLon, minLat, maxLon, maxLat]' }),
    areaKm2: Type.Number({ description: 'approximate' }),
    updatedAt: IsoTime,
  },
  { additionalProperties: false },
);
export type GridSummaryJson = Type.Static<typeof GridSummaryJson>;

export const GridDetailJson = Type.Object(
  {
    ...GridSummaryJson.properties,
    path: Type.Array(PathEntryJson, { description: 'county → town → village → grid, this grid last' }),
    geometry: Type.Object({ type: Type.String(), coordinates: Type.Array(Type.Unknown()) }),
  },
  { additionalProperties: false },
);
export type GridDetailJson = Type.Static<typeof GridDetailJson>;

export const GridList = Type.Object(
  { version: Type.Integer({ description: 'the grid version listed (0: nothing imported yet)' }), items: Type.Array(GridSummaryJson) },
  { additionalProperties: false },
);
export type GridList = Type.Static<typeof GridList>;

/** Which grid version to read: a number, or the one in force at a time; default the current one. */
export const VersionQuery = {
  version: Type.Optional(Type.Integer({ minimum: 1, description: 'a grid version (GET /grids/versions)' })),
  asOf: Type.Optional(Type.String({ maxLength: 40, description: 'the version in force at this time: ms since the epoch or ISO 8601' })),
};

export const GridListQuery = Type.Object(
  { level: Type.Optional(GridLevelSchema), parentId: Type.Optional(Type.String({ maxLength: 128 })), ...VersionQuery },
  { additionalProperties: false },
);
export type GridListQuery = Type.Static<typeof GridListQuery>;

export const GridDetailQuery = Type.Object({ ...VersionQuery }, { additionalProperties: false });

export const LocateQuery = Type.Object(
  { lon: Type.Number({ minimum: -180, maximum: 180 }), lat: Type.Number({ minimum: -90, maximum: 90 }), ...VersionQuery },
  { additionalProperties: false },
);
export type LocateQuery = Type.Static<typeof LocateQuery>;

export const GridVersionJson = Type.Object(
  {
    version: Type.Integer(),
    importedAt: IsoTime,
    actor: Type.String({ description: 'who imported it' }),
    imported: Type.Integer(),
    created: Type.Integer(),
    updated: Type.Integer(),
    unchanged: Type.Integer(),
    devicesMoved: Type.Integer(),
  },
  { additionalProperties: false },
);
export type GridVersionJson = Type.Static<typeof GridVersionJson>;
