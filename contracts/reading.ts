import Type from 'typebox';

/**
 * Quality travels with every value: `good`, `bad` (with a reason: timeout, Modbus exception, decode
 * failure…) or `stale` (the last good value, re-reported after the source stopped updating).
 */
export const Quality = Type.Union([Type.Literal('good'), Type.Literal('bad'), Type.Literal('stale')]);
export type Quality = Type.Static<typeof Quality>;

export const Reading = Type.Object(
  {
    deviceId: Type.String({ minLength: 1 }),
    point: Type.String({ minLength: 1 }),
    /** Engineering value after the profile's scale/offset; null when quality is bad. */
    value: Type.Union([Type.Number(), Type.Boolean(), Type.String(), Type.Null()]),
    unit: Type.Optional(Type.String()),
    quality: Quality,
    reason: Type.Optional(Type.String()),
    /** Milliseconds since the epoch, taken when the value was read. */
    ts: Type.Integer(),
  },
  { additionalProperties: false },
);
export type Reading = Type.Static<typeof Reading>;
export type ReadingValue = Reading['value'];
