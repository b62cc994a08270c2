import Type from 'typebox';
import { Location } from './geo.js';

/** The largest evidence file the cloud takes (a 4K JPEG at high quality is 2–3 MB). */
export const EVIDENCE_MAX_BYTES = 4 * 1024 * 1024;

/** Severity, most urgent first. The cloud maps it to an event priority. */
export const SEVERITIES = ['critical', 'major', 'minor', 'warning'] as const;
export const Severity = Type.Enum(SEVERITIES);
export type Severity = (typeof SEVERITIES)[number];

/**
 * What happened to an alarm: it is raised once, may be updated (new value, escalated severity) and
 * is cleared once. Each transition is one envelope on the wire.
 */
export const ALARM_ACTIONS = ['raise', 'update', 'clear'] as const;
export const AlarmAction = Type.Enum(ALARM_ACTIONS);
export type AlarmAction = (typeof ALARM_ACTIONS)[number];

/** Evidence kinds; a camera snapshot (a JPEG) is the only one so far. */
export const EVIDENCE_KINDS = ['snapshot'] as const;

/**
 * A piece of evidence an alarm carries: what it is and the SHA-256 of its bytes. The bytes travel
 * apart (PUT /api/v1/evidence/:sha256, content-addressed), so an alarm stays small and a picture
 * that is taken after the alarm was queued can follow it (POST /api/v1/alarms/:alarmId/evidence).
 */
export const Evidence = Type.Object(
  {
    kind: Type.Enum(EVIDENCE_KINDS),
    /** The camera (an edge device id) the picture comes from. */
    cameraId: Type.String({ minLength: 1, maxLength: 128 }),
    /** When the picture was taken, ms since the epoch. */
    takenAt: Type.Integer({ minimum: 0 }),
    contentType: Type.Literal('image/jpeg'),
    /** Lower-case hex SHA-256 of the bytes: their address. */
    sha256: Type.String({ pattern: '^[0-9a-f]{64}$' }),
    size: Type.Integer({ minimum: 1, maximum: EVIDENCE_MAX_BYTES }),
  },
  { additionalProperties: false },
);
export type Evidence = Type.Static<typeof Evidence>;

/**
 * The alarm envelope: what an edge sends and the cloud stores. `alarmId` is made on the edge and is
 * the alarm's identity for its whole life; `(alarmId, seq)` identifies one transition and makes
 * ingest idempotent (seq 0 is the raise, each update or clear takes the next number).
 */
export const AlarmEnvelope = Type.Object(
  {
    alarmId: Type.String({ minLength: 8, maxLength: 128, pattern: '^[A-Za-z0-9._:-]+$' }),
    seq: Type.Integer({ minimum: 0, maximum: 1_000_000 }),
    action: AlarmAction,
    /** Dedup key part: what kind of alarm (water_level_high, device_offline, smoke…). snake_case. */
    type: Type.String({ minLength: 1, maxLength: 64, pattern: '^[a-z][a-z0-9_]*$' }),
    severity: Severity,
    deviceId: Type.String({ minLength: 1, maxLength: 128 }),
    /** Device profile id, so the cloud can categorise without knowing the edge's config. */
    profile: Type.Optional(Type.String({ maxLength: 128 })),
    ruleId: Type.Optional(Type.String({ maxLength: 128 })),
    point: Type.Optional(Type.String({ maxLength: 64 })),
    value: Type.Optional(Type.Union([Type.Number(), Type.Boolean(), Type.String({ maxLength: 256 }), Type.Null()])),
    unit: Type.Optional(Type.String({ maxLength: 16 })),
    threshold: Type.Optional(Type.Number()),
    message: Type.Optional(Type.String({ maxLength: 1024 })),
    location: Type.Optional(Location),
    site: Type.Optional(Type.String({ maxLength: 128, description: 'kind of place: nursing_home, school, market…' })),
    /** When the transition happened on the edge, ms since the epoch. */
    ts: Type.Integer({ minimum: 0 }),
    /** Pictures (and later other evidence) of the alarm; their bytes are uploaded apart. */
    evidence: Type.Optional(Type.Array(Evidence, { maxItems: 16 })),
  },
  { additionalProperties: false },
);
export type AlarmEnvelope = Type.Static<typeof AlarmEnvelope>;

/** An edge uploads alarms in batches. */
export const AlarmBatch = Type.Object(
  {
    alarms: Type.Array(AlarmEnvelope, { minItems: 1, maxItems: 1000 }),
  },
  { additionalProperties: false },
);
export type AlarmBatch = Type.Static<typeof AlarmBatch>;

export const AlarmBatchResult = Type.Object({
  /** Transitions stored by this request. */
  accepted: Type.Integer(),
  /** Transitions the cloud already had (a retry); not stored again. */
  duplicates: Type.Integer(),
});
export type AlarmBatchResult = Type.Static<typeof AlarmBatchResult>;
