import Type from 'typebox';
import { SEVERITIES } from '../../contracts/alarm.js';
import { IsoTime, LocationJson, NextCursor, NullableIsoTime, PageQuery, nullable } from '../http/schemas.js';

export const AlarmState = Type.Enum(['raised', 'cleared'] as const);
// Type.Enum, not contracts' Severity schema: the latter's static type is `never` (see envelope.ts).
const SeverityJson = Type.Enum(SEVERITIES);

export const AlarmJson = Type.Object(
  {
    id: Type.String({ description: 'cloud id' }),
    alarmId: Type.String({ description: "the edge's alarm id (unique per edge)" }),
    edgeId: Type.String(),
    deviceId: Type.String(),
    type: Type.String(),
    severity: SeverityJson,
    state: AlarmState,
    raisedAt: IsoTime,
    lastAt: IsoTime,
    clearedAt: NullableIsoTime,
    lastSeq: Type.Integer(),
    value: Type.Union([Type.Number(), Type.Boolean(), Type.String(), Type.Null()]),
    unit: nullable(Type.String()),
    message: nullable(Type.String()),
    location: nullable(LocationJson),
    site: nullable(Type.String()),
    profile: nullable(Type.String()),
    ruleId: nullable(Type.String()),
    eventId: nullable(Type.String()),
    receivedAt: IsoTime,
  },
  { additionalProperties: false },
);
export type AlarmJson = Type.Static<typeof AlarmJson>;

export const AlarmListQuery = Type.Object(
  {
    deviceId: Type.Optional(Type.String({ maxLength: 128 })),
    state: Type.Optional(AlarmState),
    edgeId: Type.Optional(Type.String({ maxLength: 64 })),
    alarmId: Type.Optional(Type.String({ maxLength: 128, description: "the edge's alarm id" })),
    ...PageQuery,
  },
  { additionalProperties: false },
);
export type AlarmListQuery = Type.Static<typeof AlarmListQuery>;

export const AlarmList = Type.Object({ items: Type.Array(AlarmJson), nextCursor: NextCursor }, { additionalProperties: false });
export type AlarmList = Type.Static<typeof AlarmList>;
