import Type from 'typebox';

/**
 * What an edge tells the cloud every minute about itself and its devices: the fleet's view of health
 * (online/offline with last-seen, outbox depth, version, battery levels) comes from these.
 */
export const DeviceHealthReport = Type.Object(
  {
    id: Type.String({ minLength: 1, maxLength: 128 }),
    profile: Type.String({ maxLength: 128 }),
    /** online | offline | unknown (its bus is down) | starting */
    health: Type.Enum(['starting', 'online', 'offline', 'unknown'] as const),
    /** Last answer, ms since the epoch. */
    lastSeenAt: Type.Optional(Type.Integer({ minimum: 0 })),
    lastError: Type.Optional(Type.String({ maxLength: 128 })),
    /** The latest battery_percent reading, for battery-powered sensors. */
    batteryPercent: Type.Optional(Type.Number({ minimum: 0, maximum: 100 })),
  },
  { additionalProperties: false },
);
export type DeviceHealthReport = Type.Static<typeof DeviceHealthReport>;

export const Heartbeat = Type.Object(
  {
    /** gridsense version running on the edge. */
    version: Type.String({ maxLength: 32 }),
    startedAt: Type.Integer({ minimum: 0 }),
    sentAt: Type.Integer({ minimum: 0 }),
    outboxDepth: Type.Integer({ minimum: 0 }),
    deadLetters: Type.Integer({ minimum: 0 }),
    /** How long the oldest alarm still in the outbox has waited, ms (absent: none waiting). */
    oldestAlarmAgeMs: Type.Optional(Type.Integer({ minimum: 0 })),
    /** The edge's configured heartbeat interval, ms: the cloud need not learn it from the gaps. */
    heartbeatIntervalMs: Type.Optional(Type.Integer({ minimum: 1000, maximum: 86_400_000 })),
    /** Alarms alone exceed the outbox's disk quota: no telemetry summaries are queued. */
    outboxOverQuota: Type.Optional(Type.Boolean()),
    /** The configuration version the edge runs (remote configuration), if it came from the cloud. */
    configVersion: Type.Optional(Type.Integer({ minimum: 0 })),
    devices: Type.Array(DeviceHealthReport, { maxItems: 10_000 }),
    buses: Type.Array(Type.Object({ busId: Type.String({ maxLength: 256 }), down: Type.Boolean(), devices: Type.Integer({ minimum: 0 }) }, { additionalProperties: false }), { maxItems: 1000 }),
  },
  { additionalProperties: false },
);
export type Heartbeat = Type.Static<typeof Heartbeat>;
