// What every point's value may be, whatever its protocol: unit, scale, offset and range belong to
// numbers, and a number's range must be one its wire data type can reach through scale and offset.
import type { ProfilePoint } from '../../contracts/profile.js';
import type { AddProblem } from './index.js';
import { isIntegerType, reachable, wireType } from './wire.js';

const NUMBER_ONLY = ['unit', 'scale', 'offset', 'range'] as const;

/** Rounding slack when comparing a range with what a scaled raw range reaches. */
const EPSILON = 1e-9;

export function checkPointValue(p: ProfilePoint, at: string, add: AddProblem): void {
  if (p.type !== 'number') {
    for (const key of NUMBER_ONLY) {
      if (p[key] !== undefined) add(`${at}/${key}`, `a ${p.type} point has no ${key}: unit, scale, offset and range apply to type number only`);
    }
    return;
  }
  const dt = wireType(p);
  const range = p.range;
  // Bits and strings read as boolean / string (the protocol checks say so); an inverted range or a zero
  // scale is reported on its own.
  if (!dt || !range || !(range.min < range.max) || p.scale === 0) return;
  const reach = reachable(p, dt);
  if (!reach) return;
  const scaling = `${dt} × ${p.scale ?? 1} + ${p.offset ?? 0}`;
  const slack = EPSILON * Math.max(1, Math.abs(range.min), Math.abs(range.max));
  if (range.min < reach[0] - slack || range.max > reach[1] + slack) {
    add(`${at}/range`, `range [${range.min}, ${range.max}] cannot be reached: ${scaling} spans [${reach[0]}, ${reach[1]}]; check dataType, scale and offset`);
    return;
  }
  // An integer type moves in steps of |scale|: a range narrower than one step holds one raw value at most
  // (typically a forgotten scale, e.g. volts in millivolt counts).
  const step = Math.abs(p.scale ?? 1);
  if (isIntegerType(dt) && (range.max - range.min) / step < 1 - EPSILON) {
    add(`${at}/range`, `range [${range.min}, ${range.max}] is narrower than one raw step of ${dt} × ${p.scale ?? 1} (${step}); check scale`);
  }
}
