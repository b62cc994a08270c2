// The JSON path grammar of MQTT profile points (device-profiles/checks/mqtt.ts): a key, then `.key` or
// `[index]` steps, e.g. `smoke.alarm`, `sensors[0].t`.
import { isJsonPath } from '../../../device-profiles/checks/mqtt.js';

export type PathStep = string | number;

const STEP = /\.?([A-Za-z_][A-Za-z0-9_-]*)|\[(\d+)\]/g;

const parsed = new Map<string, PathStep[]>();

/** The steps of a path; throws on a path the grammar does not allow (profile checks catch those first). */
export function parsePath(path: string): PathStep[] {
  const hit = parsed.get(path);
  if (hit) return hit;
  if (!isJsonPath(path)) throw new Error(`not a JSON path: "${path}"`);
  const steps: PathStep[] = [];
  for (const m of path.matchAll(STEP)) steps.push(m[1] !== undefined ? m[1] : Number(m[2]));
  parsed.set(path, steps);
  return steps;
}

/** The value at `path`, or `undefined` when some step is missing (an absent key, an index past the end, a step into a scalar). */
export function getPath(doc: unknown, path: string): unknown {
  let cur: unknown = doc;
  for (const step of parsePath(path)) {
    if (typeof step === 'number') {
      if (!Array.isArray(cur) || step >= cur.length) return undefined;
      cur = cur[step];
    } else {
      if (cur === null || typeof cur !== 'object' || Array.isArray(cur) || !Object.hasOwn(cur, step)) return undefined;
      cur = (cur as Record<string, unknown>)[step];
    }
  }
  return cur;
}

/** Sets `value` at `path` inside `doc`, creating objects and arrays on the way; returns the document. */
export function setPath(doc: Record<string, unknown>, path: string, value: unknown): Record<string, unknown> {
  const steps = parsePath(path);
  let cur: Record<string | number, unknown> = doc;
  steps.forEach((step, i) => {
    if (i === steps.length - 1) {
      define(cur, step, value);
      return;
    }
    const next = steps[i + 1]!;
    const existing = Object.hasOwn(cur, step) ? cur[step] : undefined;
    const fits = typeof next === 'number' ? Array.isArray(existing) : existing !== null && typeof existing === 'object' && !Array.isArray(existing);
    if (!fits) define(cur, step, typeof next === 'number' ? [] : {});
    cur = cur[step] as Record<string | number, unknown>;
  });
  return doc;
}

/** An own property even for a key like `__proto__`, which plain assignment would turn into a prototype change. */
function define(target: Record<string | number, unknown>, key: PathStep, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}
