import Type from 'typebox';
import { Duration } from '../../contracts/duration.js';
import { Location } from '../../contracts/geo.js';
import { ErrorDetail, IsoTime, NextCursor, NullableIsoTime, nullable, PageQuery, LocationJson } from '../http/schemas.js';
import { EDGE_ID_PATTERN } from '../edges/schemas.js';

/** As edge.yaml allows device ids: they end up in alarm ids, URLs and log lines. */
export const DEVICE_ID_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._:-]*$';
export const DeviceId = Type.String({ minLength: 1, maxLength: 128, pattern: DEVICE_ID_PATTERN, description: 'e.g. wl-qingquan-001' });
export const Tag = Type.String({ minLength: 1, maxLength: 64, pattern: '^[^,;|\\s]([^,;|]*[^,;|\\s])?$', description: 'free text without , ; |' });
export const Site = Type.String({ maxLength: 128, pattern: '^[a-z][a-z0-9_]*$', description: 'the kind of place, e.g. nursing_home' });
export const Overrides = Type.Record(Type.String({ maxLength: 128 }), Type.Record(Type.String({ maxLength: 64 }), Type.Unknown()), {
  description: 'rule parameters by rule id, e.g. {"water-level-warning": {"above": 3.2, "clearBelow": 3.0}}',
});
export const Connection = Type.Object(
  { protocol: Type.String({ minLength: 1, maxLength: 32, description: 'modbus-tcp, modbus-rtu, modbus-rtu-tcp, mqtt, opcua' }) },
  { additionalProperties: true, description: "the edge.yaml connection block; the protocol's driver checks the rest" },
);

export const DEVICE_STATUSES = ['active', 'disabled', 'decommissioned'] as const;
export type DeviceStatus = (typeof DEVICE_STATUSES)[number];
export const HEALTH_STATES = ['online', 'offline', 'unknown'] as const;

/** One device to register (POST /devices, and each row of an import). */
export const DeviceInput = Type.Object(
  {
    id: DeviceId,
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    profile: Type.String({ minLength: 1, maxLength: 128 }),
    edge: Type.String({ pattern: EDGE_ID_PATTERN, description: 'the edge that polls it' }),
    connection: Connection,
    location: Type.Optional(Location),
    site: Type.Optional(Site),
    serial: Type.Optional(Type.String({ minLength: 1, maxLength: 128, description: "the maker's serial number; unique" })),
    tags: Type.Optional(Type.Array(Tag, { maxItems: 32, uniqueItems: true })),
    pollInterval: Type.Optional(Duration),
    offlineAfterMisses: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
    overrides: Type.Optional(Overrides),
    disabled: Type.Optional(Type.Boolean({ description: 'register it without handing it to the edge yet' })),
  },
  { additionalProperties: false },
);
export type DeviceInput = Type.Static<typeof DeviceInput>;

export const MqttCredentialsJson = Type.Object(
  {
    username: Type.String(),
    password: Type.String({ description: 'shown this once; the edge keeps only its scrypt hash' }),
    topicRoot: Type.String(),
  },
  { additionalProperties: false },
);
export type MqttCredentialsJson = Type.Static<typeof MqttCredentialsJson>;

export const DeviceHealthJson = Type.Object(
  {
    status: Type.Enum(HEALTH_STATES, { description: "online/offline as the edge reports; unknown when it has not, or the edge is silent" }),
    reported: nullable(Type.String({ description: "the edge's last word: online, offline, unknown (bus down), starting" })),
    since: NullableIsoTime,
    lastSeenAt: NullableIsoTime,
    lastError: nullable(Type.String()),
    batteryPercent: nullable(Type.Number()),
    edgeOnline: Type.Boolean(),
  },
  { additionalProperties: false },
);

export const DeviceJson = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    profile: Type.String(),
    kind: nullable(Type.String()),
    edgeId: Type.String(),
    protocol: Type.String(),
    connection: Type.Unknown({ description: 'secrets shown as [hidden]' }),
    serial: nullable(Type.String()),
    location: nullable(LocationJson),
    gridId: nullable(Type.String()),
    townId: nullable(Type.String()),
    site: nullable(Type.String()),
    tags: Type.Array(Type.String()),
    pollInterval: Type.Unknown(),
    offlineAfterMisses: nullable(Type.Integer()),
    overrides: Type.Unknown(),
    status: Type.Enum(DEVICE_STATUSES),
    claimCode: nullable(Type.String({ description: 'printed on the label; null once claimed or decommissioned' })),
    claimedAt: NullableIsoTime,
    createdAt: IsoTime,
    updatedAt: IsoTime,
    health: DeviceHealthJson,
  },
  { additionalProperties: false },
);
export type DeviceJson = Type.Static<typeof DeviceJson>;

export const CreatedDeviceJson = Type.Object({ ...DeviceJson.properties, mqtt: Type.Optional(MqttCredentialsJson) }, { additionalProperties: false });
export type CreatedDeviceJson = Type.Static<typeof CreatedDeviceJson>;

export const DeviceListQuery = Type.Object(
  {
    edge: Type.Optional(Type.String({ maxLength: 64 })),
    town: Type.Optional(Type.String({ maxLength: 128 })),
    grid: Type.Optional(Type.String({ maxLength: 128 })),
    profile: Type.Optional(Type.String({ maxLength: 128 })),
    status: Type.Optional(Type.Enum(DEVICE_STATUSES, { description: 'default: active and disabled' })),
    health: Type.Optional(Type.Enum(['online', 'offline', 'unknown', 'starting'] as const, { description: "the edge's last report" })),
    tag: Type.Optional(Type.String({ maxLength: 64 })),
    ...PageQuery,
  },
  { additionalProperties: false },
);
export type DeviceListQuery = Type.Static<typeof DeviceListQuery>;

export const DeviceList = Type.Object({ items: Type.Array(DeviceJson), nextCursor: NextCursor }, { additionalProperties: false });
export type DeviceList = Type.Static<typeof DeviceList>;

export const ImportRowReport = Type.Object(
  { line: Type.Integer({ description: 'line of the CSV file (the header is line 1)' }), id: nullable(Type.String()), errors: Type.Array(ErrorDetail) },
  { additionalProperties: false },
);

export const ImportResult = Type.Object(
  {
    imported: Type.Integer(),
    dryRun: Type.Boolean(),
    devices: Type.Array(Type.Object({ id: Type.String(), line: Type.Integer(), claimCode: Type.String(), mqtt: Type.Optional(MqttCredentialsJson) }, { additionalProperties: false })),
    failed: Type.Array(ImportRowReport),
  },
  { additionalProperties: false },
);
export type ImportResult = Type.Static<typeof ImportResult>;

export const MoveBody = Type.Object(
  {
    edge: Type.Optional(Type.String({ pattern: EDGE_ID_PATTERN })),
    location: Type.Optional(Location),
    site: Type.Optional(nullable(Site)),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type MoveBody = Type.Static<typeof MoveBody>;

export const PatchBody = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    overrides: Type.Optional(nullable(Overrides)),
    tags: Type.Optional(Type.Array(Tag, { maxItems: 32, uniqueItems: true })),
    pollInterval: Type.Optional(nullable(Duration)),
    offlineAfterMisses: Type.Optional(nullable(Type.Integer({ minimum: 1, maximum: 1000 }))),
    serial: Type.Optional(nullable(Type.String({ minLength: 1, maxLength: 128 }))),
    connection: Type.Optional(Connection),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type PatchBody = Type.Static<typeof PatchBody>;

export const ClaimBody = Type.Object(
  {
    code: Type.String({ minLength: 4, maxLength: 32, description: 'the claim code on the label, e.g. 7KQ2-M9XD (case, dashes and spaces do not matter)' }),
    lon: Type.Number({ minimum: -180, maximum: 180 }),
    lat: Type.Number({ minimum: -90, maximum: 90 }),
    site: Type.Optional(Site),
  },
  { additionalProperties: false },
);
export type ClaimBody = Type.Static<typeof ClaimBody>;
