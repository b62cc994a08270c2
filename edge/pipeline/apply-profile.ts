// The one step that turns raw driver values into Readings, shared by every driver: scale, offset,
// unit and sanity range come from the profile, so drivers never know units (DESIGN.md, abstraction 1).
import type { Reading } from '../../contracts/reading.js';
import type { RawPointValue, RawValue } from '../drivers/driver.js';
import type { ProfilePoint as Point, DeviceProfile as Profile } from '../../contracts/profile.js';

/**
 * raw × scale + offset, rounded to 12 significant digits: binary floating point turns 330 × 0.01 into
 * 3.3000000000000003, and a rule with `above: 3.3` must not fire on that.
 */
export function toEngineering(raw: number, point: Pick<Point, 'scale' | 'offset'>): number {
  const v = raw * (point.scale ?? 1) + (point.offset ?? 0);
  return v === 0 ? 0 : Number(v.toPrecision(12));
}

/** The inverse, for writes: the raw number a driver must send to make the point read `value`. */
export function toRaw(value: number, point: Pick<Point, 'scale' | 'offset'>): number {
  const raw = (value - (point.offset ?? 0)) / (point.scale ?? 1);
  return Number(raw.toPrecision(12));
}

const pointIndex = new WeakMap<Profile, Map<string, Point>>();

function pointsOf(profile: Profile): Map<string, Point> {
  let m = pointIndex.get(profile);
  if (!m) {
    m = new Map(profile.points.map((p) => [p.name, p]));
    pointIndex.set(profile, m);
  }
  return m;
}

/** One Reading per raw value, in the same order. */
export function applyProfile(deviceId: string, profile: Profile, raws: readonly RawPointValue[], ts: number): Reading[] {
  const points = pointsOf(profile);
  return raws.map((raw) => {
    const point = points.get(raw.point);
    const base = { deviceId, point: raw.point, ts, ...(point?.unit !== undefined ? { unit: point.unit } : {}) };
    if (!point) return { ...base, value: null, quality: 'bad', reason: 'unknown_point' } satisfies Reading;
    if (!raw.ok) return { ...base, value: null, quality: 'bad', reason: raw.reason } satisfies Reading;
    const conv = convert(raw.value, point);
    if ('reason' in conv) return { ...base, value: null, quality: 'bad', reason: conv.reason } satisfies Reading;
    return { ...base, value: conv.value, quality: raw.stale ? 'stale' : 'good' } satisfies Reading;
  });
}

function convert(raw: RawValue, point: Point): { value: number | boolean | string } | { reason: string } {
  switch (point.type) {
    case 'number': {
      const n = typeof raw === 'number' ? raw : typeof raw === 'boolean' ? Number(raw) : Number.NaN;
      if (typeof raw === 'string') return { reason: 'type_mismatch' };
      if (!Number.isFinite(n)) return { reason: 'not_a_number' };
      const v = toEngineering(n, point);
      if (point.range && (v < point.range.min || v > point.range.max)) return { reason: 'out_of_range' };
      return { value: v };
    }
    case 'boolean':
      if (typeof raw === 'boolean') return { value: raw };
      if (typeof raw === 'number') return { value: raw !== 0 };
      return { reason: 'type_mismatch' };
    case 'string':
      return { value: String(raw) };
  }
}
