import Type from 'typebox';

/**
 * One device point over one period, summarised on the edge (edge/summaries.ts) and sent to the cloud
 * at a lower priority than alarms: the county sees the shape of the history without the history,
 * which stays in the town's telemetry store. Only numeric, good readings are summarised.
 */
export const TelemetrySummary = Type.Object(
  {
    deviceId: Type.String({ minLength: 1, maxLength: 128 }),
    point: Type.String({ minLength: 1, maxLength: 64 }),
    /** The period, ms since the epoch: [from, to). */
    from: Type.Integer({ minimum: 0 }),
    to: Type.Integer({ minimum: 0 }),
    count: Type.Integer({ minimum: 1 }),
    min: Type.Number(),
    max: Type.Number(),
    mean: Type.Number(),
    /** The latest reading of the period, and when it was taken. */
    last: Type.Number(),
    lastTs: Type.Integer({ minimum: 0 }),
    unit: Type.Optional(Type.String({ maxLength: 16 })),
  },
  { additionalProperties: false },
);
export type TelemetrySummary = Type.Static<typeof TelemetrySummary>;

/**
 * What the edge's outbox dropped to stay within its disk quota: telemetry summaries (never alarms),
 * `dropped` of them, covering the periods from `from` to `to`. Sent at alarm priority, so the gap is
 * reported even while summaries are still being dropped.
 */
export const TelemetryGap = Type.Object(
  {
    /** Idempotency key, unique per edge. */
    id: Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9._:-]+$' }),
    dropped: Type.Integer({ minimum: 1 }),
    from: Type.Integer({ minimum: 0 }),
    to: Type.Integer({ minimum: 0 }),
    /** When the edge dropped them. */
    at: Type.Integer({ minimum: 0 }),
    /** Why: the outbox quota in bytes at the time. */
    maxBytes: Type.Integer({ minimum: 0 }),
  },
  { additionalProperties: false },
);
export type TelemetryGap = Type.Static<typeof TelemetryGap>;

export const SummaryBatch = Type.Object(
  {
    summaries: Type.Array(TelemetrySummary, { maxItems: 5000 }),
    gaps: Type.Optional(Type.Array(TelemetryGap, { maxItems: 1000 })),
  },
  { additionalProperties: false },
);
export type SummaryBatch = Type.Static<typeof SummaryBatch>;

export const SummaryBatchResult = Type.Object(
  {
    accepted: Type.Integer({ description: 'summaries and gaps stored now' }),
    duplicates: Type.Integer({ description: 'already stored (a retried upload): nothing changed' }),
  },
  { additionalProperties: false },
);
export type SummaryBatchResult = Type.Static<typeof SummaryBatchResult>;

/** The idempotency key of a summary: one per device, point and period. */
export function summaryKey(s: Pick<TelemetrySummary, 'deviceId' | 'point' | 'from'>): string {
  return `summary:${s.deviceId}:${s.point}:${s.from}`;
}
