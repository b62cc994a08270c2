import Type from 'typebox';
import { IsoTime, LocationJson, NextCursor, NullableIsoTime, PageQuery, nullable } from '../http/schemas.js';
import { AlarmJson } from '../alarms/schemas.js';
import { EVENT_STATUS_CODES } from './status.js';
import { EVENT_ACTION_CODES, EVENT_ACTIONS } from './lifecycle.js';
import { EvidenceJson } from '../evidence/schemas.js';

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
    townId: nullable(Type.String()),
    gridName: nullable(Type.String({ description: 'as it was when the event opened' })),
    gridNameZh: nullable(Type.String()),
    gridVersion: nullable(Type.Integer({ description: 'the grid version the event was placed in (GET /grids/{gridId}?version=)' })),
    gridPath: nullable(
      Type.Array(Type.Object({ id: Type.String(), level: Type.String(), name: Type.String(), nameZh: nullable(Type.String()) }, { additionalProperties: false }), {
        description: 'county → town → village → grid, as it was when the event opened',
      }),
    ),
    location: nullable(LocationJson),
    site: nullable(Type.String()),
    occurrenceCount: Type.Integer(),
    activeAlarms: Type.Integer({ description: 'linked alarms not cleared yet' }),
    openedAt: IsoTime,
    updatedAt: IsoTime,
    deadlineAt: IsoTime,
    clearedAt: NullableIsoTime,
    readyToVerify: Type.Boolean({ description: 'every alarm of the event has cleared and it is not closed: a worker should check on site' }),
    assignee: nullable(
      Type.Object(
        { kind: Type.Enum(['department', 'worker'] as const), id: Type.String(), name: nullable(Type.String({ description: 'the grid worker or department as named when dispatched' })) },
        { additionalProperties: false, description: 'who holds the work since dispatch (分流交办)' },
      ),
    ),
    acceptedAt: NullableIsoTime,
    dispatchedAt: NullableIsoTime,
    resolvedAt: NullableIsoTime,
    closedAt: NullableIsoTime,
    escalatedAt: NullableIsoTime,
    escalations: Type.Integer({ description: 'times supervision (督办) escalated it' }),
    allowedActions: Type.Array(Type.String(), { description: 'what POST /events/{id}/transitions accepts now' }),
  },
  { additionalProperties: false },
);
export type EventJson = Type.Static<typeof EventJson>;

export const TimelineEntryJson = Type.Object(
  {
    at: IsoTime,
    kind: Type.String({ description: 'opened | alarm_repeated | alarm_joined | alarm_updated | alarm_cleared | auto_closed, or the lifecycle action taken (accept, dispatch, …)' }),
    actor: Type.String({ description: "'system', the edge id, or who took the action" }),
    note: nullable(Type.String()),
    data: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
  },
  { additionalProperties: false },
);
export type TimelineEntryJson = Type.Static<typeof TimelineEntryJson>;

export const EventDetailJson = Type.Object(
  {
    ...EventJson.properties,
    devices: Type.Array(Type.String(), { description: 'every device with an alarm in the event (more than one when alarms of its category and grid joined it)' }),
    alarms: Type.Array(AlarmJson),
    timeline: Type.Array(TimelineEntryJson),
    /** Pictures of its alarms (camera snapshots), oldest first. */
    evidence: Type.Optional(Type.Array(EvidenceJson)),
  },
  { additionalProperties: false },
);
export type EventDetailJson = Type.Static<typeof EventDetailJson>;

export const EventListQuery = Type.Object(
  {
    status: Type.Optional(EventStatusSchema),
    category: Type.Optional(Type.String({ maxLength: 64 })),
    gridId: Type.Optional(Type.String({ maxLength: 128 })),
    townId: Type.Optional(Type.String({ maxLength: 128 })),
    overdue: Type.Optional(Type.Boolean({ description: 'true: open and past the deadline; false: not overdue' })),
    deviceId: Type.Optional(Type.String({ maxLength: 128, description: 'the device that opened the event or one whose alarm joined it' })),
    priority: Type.Optional(Type.Integer({ minimum: 1, maximum: 4 })),
    from: Type.Optional(Type.String({ maxLength: 40, description: 'opened at or after: ms since the epoch or ISO 8601' })),
    to: Type.Optional(Type.String({ maxLength: 40, description: 'opened before: ms since the epoch or ISO 8601' })),
    ...PageQuery,
  },
  { additionalProperties: false },
);
export type EventListQuery = Type.Static<typeof EventListQuery>;

export const Attachment = Type.Object(
  { name: Type.String({ minLength: 1, maxLength: 200 }), url: Type.String({ minLength: 1, maxLength: 2048, pattern: '^(https?://|/)' }) },
  { additionalProperties: false },
);

export const TransitionBody = Type.Object(
  {
    action: Type.Enum(EVENT_ACTION_CODES, { description: Object.entries(EVENT_ACTIONS).map(([a, zh]) => `${a} ${zh}`).join(' · ') }),
    actor: Type.Optional(Type.String({ minLength: 1, maxLength: 128, description: 'who acts (a user name); default: the caller' })),
    note: Type.Optional(Type.String({ maxLength: 4000, description: 'why; required for return, resolve and escalate' })),
    assignee: Type.Optional(Type.Object({ kind: Type.Enum(['department', 'worker'] as const), id: Type.String({ minLength: 1, maxLength: 128 }) }, { additionalProperties: false })),
    attachments: Type.Optional(Type.Array(Attachment, { maxItems: 20 })),
  },
  { additionalProperties: false },
);
export type TransitionBody = Type.Static<typeof TransitionBody>;

export const EventList = Type.Object({ items: Type.Array(EventJson), nextCursor: NextCursor }, { additionalProperties: false });
export type EventList = Type.Static<typeof EventList>;
