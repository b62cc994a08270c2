// The people and offices that handle grid events: grid workers (网格员) and departments (职能部门).
import Type from 'typebox';
import { IsoTime, NextCursor, NullableIsoTime, PageQuery, nullable } from '../http/schemas.js';

const Id = Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9][A-Za-z0-9._:-]*$' });
/** A mainland mobile number or a landline with its area code, optionally +86. */
const Phone = Type.String({ maxLength: 24, pattern: '^(\\+?86[- ]?)?(1[3-9][0-9]{9}|0[0-9]{2,3}-?[0-9]{7,8})$', description: 'mobile (13800138000) or landline with area code (0936-1234567)' });
/** A department's line may also be a short service number (12345, 119). */
const DepartmentPhone = Type.String({ minLength: 3, maxLength: 24, pattern: '^\\+?[0-9][0-9 -]{1,22}[0-9]$' });
const Name = Type.String({ minLength: 1, maxLength: 100, pattern: '\\S' });
const Category = Type.String({ minLength: 1, maxLength: 64, description: 'an event category code of the policy (flood_control, fire_safety, …)' });

export const WorkerJson = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    phone: Type.String(),
    gridId: Type.String(),
    townId: nullable(Type.String({ description: "the town above the worker's grid: the scope a town key sees" })),
    createdAt: IsoTime,
    updatedAt: IsoTime,
    retiredAt: NullableIsoTime,
  },
  { additionalProperties: false },
);
export type WorkerJson = Type.Static<typeof WorkerJson>;

export const WorkerCreateBody = Type.Object(
  { id: Type.Optional(Id), name: Name, phone: Phone, gridId: Type.String({ minLength: 1, maxLength: 128, description: 'a current grid of level grid or village' }) },
  { additionalProperties: false },
);
export type WorkerCreateBody = Type.Static<typeof WorkerCreateBody>;

export const WorkerPatchBody = Type.Object(
  { name: Type.Optional(Name), phone: Type.Optional(Phone), gridId: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })) },
  { additionalProperties: false, minProperties: 1 },
);
export type WorkerPatchBody = Type.Static<typeof WorkerPatchBody>;

export const WorkerListQuery = Type.Object(
  {
    gridId: Type.Optional(Type.String({ maxLength: 128 })),
    townId: Type.Optional(Type.String({ maxLength: 128 })),
    includeRetired: Type.Optional(Type.Boolean({ description: 'default false' })),
    ...PageQuery,
  },
  { additionalProperties: false },
);
export type WorkerListQuery = Type.Static<typeof WorkerListQuery>;

export const WorkerList = Type.Object({ items: Type.Array(WorkerJson), nextCursor: NextCursor }, { additionalProperties: false });
export type WorkerList = Type.Static<typeof WorkerList>;

export const DEPARTMENT_SCOPES = ['county', 'town'] as const;

export const DepartmentJson = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    nameZh: nullable(Type.String()),
    phone: nullable(Type.String()),
    scope: Type.Enum(DEPARTMENT_SCOPES, { description: 'county: serves every town; town: serves townId only' }),
    townId: nullable(Type.String()),
    categories: Type.Array(Type.String(), { description: 'the event categories it handles' }),
    createdAt: IsoTime,
    updatedAt: IsoTime,
    retiredAt: NullableIsoTime,
  },
  { additionalProperties: false },
);
export type DepartmentJson = Type.Static<typeof DepartmentJson>;

const Categories = Type.Array(Category, { minItems: 1, maxItems: 32, uniqueItems: true });

export const DepartmentCreateBody = Type.Object(
  {
    id: Type.Optional(Id),
    name: Name,
    nameZh: Type.Optional(Name),
    phone: Type.Optional(DepartmentPhone),
    scope: Type.Enum(DEPARTMENT_SCOPES),
    townId: Type.Optional(Type.String({ minLength: 1, maxLength: 128, description: 'required for scope town: a town-level grid' })),
    categories: Categories,
  },
  { additionalProperties: false },
);
export type DepartmentCreateBody = Type.Static<typeof DepartmentCreateBody>;

export const DepartmentPatchBody = Type.Object(
  {
    name: Type.Optional(Name),
    nameZh: Type.Optional(nullable(Name)),
    phone: Type.Optional(nullable(DepartmentPhone)),
    scope: Type.Optional(Type.Enum(DEPARTMENT_SCOPES)),
    townId: Type.Optional(nullable(Type.String({ minLength: 1, maxLength: 128 }))),
    categories: Type.Optional(Categories),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type DepartmentPatchBody = Type.Static<typeof DepartmentPatchBody>;

export const DepartmentListQuery = Type.Object(
  {
    category: Type.Optional(Type.String({ maxLength: 64 })),
    townId: Type.Optional(Type.String({ maxLength: 128, description: "departments serving this town: its own and the county's" })),
    scope: Type.Optional(Type.Enum(DEPARTMENT_SCOPES)),
    includeRetired: Type.Optional(Type.Boolean({ description: 'default false' })),
    ...PageQuery,
  },
  { additionalProperties: false },
);
export type DepartmentListQuery = Type.Static<typeof DepartmentListQuery>;

export const DepartmentList = Type.Object({ items: Type.Array(DepartmentJson), nextCursor: NextCursor }, { additionalProperties: false });
export type DepartmentList = Type.Static<typeof DepartmentList>;
