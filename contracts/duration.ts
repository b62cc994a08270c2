import Type from 'typebox';

/** A duration in config and rule files: "500ms", "30s", "2m", "1h", "1d", or a number of seconds. */
export const Duration = Type.Union([
  Type.String({ pattern: '^\\s*\\d+(\\.\\d+)?\\s*(ms|s|m|h|d)\\s*$', description: 'e.g. 500ms, 30s, 2m, 1h, 1d' }),
  Type.Number({ minimum: 0, description: 'seconds' }),
]);
export type Duration = Type.Static<typeof Duration>;

const FACTOR: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Milliseconds in a Duration; throws on a string that is not one (schema validation catches it first). */
export function durationMs(d: Duration): number {
  if (typeof d === 'number') return Math.round(d * 1000);
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$/.exec(d);
  if (!m) throw new Error(`not a duration: "${d}"`);
  return Math.round(Number(m[1]) * FACTOR[m[2]!]!);
}
