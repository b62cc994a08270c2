import Type from 'typebox';
import { IsoTime, LocationJson, NextCursor, NullableIsoTime, PageQuery, nullable } from '../http/schemas.js';
import { AlarmJson } from '../alarms/schemas.js';
import { EVENT_STATUS_CODES } from './status.js';

export const EventStatusSchema = Type.Enum(EVENT_STATUS_CODES);

export const EventJson = Type.Object(
  {
    id: Type.String(),
    status: Type.String({ description: 'reported | accepted | dispatched | handling | resolved | verified | closed | returned | escalated' }),
    statusLabel: Type.String({ examples: ['上报'] }),
    category: Type.String({ examples: ['flood_control'] }),
    categoryLabel: Type.String({ examples: ['防汛'] }),
    priority: Type.Integer({ minimum: 1, maximum: 4, description: '1 = 特急 (most urgent) … 4 = 一般' }),
    priorityLabel: Type.String(),
    title: Type.String(),
    edgeId: Type.String(),
    deviceId: Type.String(),
    alarmType: Type.String(),
    gridId: nullable(Type.String()),
    gridName: nullable(Type.String()),
    gridNameZh: nullable(Type.String()),
    location: nullable(LocationJson),
    site: nullable(Type.String()),
    occurrenceCount: Type.Integer(),
    activeAlarms: Type.Integer({ description: 'linked alarms not cleared yet' }),
    openedAt: IsoTime,
    updatedAt: IsoTime,
    deadlineAt: IsoTime,
    clearedAt: NullableIsoTime,
  },
  { additionalProperties: false },
);
export type EventJson = Type.Static<typeof EventJson>;

export const TimelineEntryJson = Type.Object(
  {
    at: IsoTime,
    kind: Type.String({ description: 'opened | alarm_repeated | alarm_updated | alarm_cleared | …' }),
    actor: Type.String({ description: "'system' or the edge id" }),
    note: nullable(Type.String()),
    data: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
  },
  { additionalProperties: false },
);
export type TimelineEntryJson = Type.Static<typeof TimelineEntryJson>;

export const EventDetailJson = Type.Object(
  { ...EventJson.properties, alarms: Type.Array(AlarmJson), timeline: Type.Array(TimelineEntryJson) },
  { additionalProperties: false },
);
export type EventDetailJson = Type.Static<typeof EventDetailJson>;

export const EventListQuery = Type.Object(
  {
    status: Type.Optional(EventStatusSchema),
    category: Type.Optional(Type.String({ maxLength: 64 })),
    gridId: Type.Optional(Type.String({ maxLength: 128 })),
    deviceId: Type.Optional(Type.String({ maxLength: 128 })),
    priority: Type.Optional(Type.Integer({ minimum: 1, maximum: 4 })),
    from: Type.Optional(Type.String({ maxLength: 40, description: 'opened at or after: ms since the epoch or ISO 8601' })),
    to: Type.Optional(Type.String({ maxLength: 40, description: 'opened before: ms since the epoch or ISO 8601' })),
    ...PageQuery,
  },
  { additionalProperties: false },
);
export type EventListQuery = Type.Static<typeof EventListQuery>;

export const EventList = Type.Object({ items: Type.Array(EventJson), nextCursor: NextCursor }, { additionalProperties: false });
export type EventList = Type.Static<typeof EventList>;
