import type { ProfilePoint } from '../../contracts/profile.js';
import type { AddProblem } from './index.js';
import { Cells } from './layout.js';
import { WORDS } from './wire.js';

/** Bytes a binary field occupies: 2 per 16-bit word, `length` for a string. */
function fieldBytes(b: NonNullable<NonNullable<ProfilePoint['mqtt']>['binary']>): number {
  return b.dataType === 'string' ? (b.length ?? 1) : WORDS[b.dataType] * 2;
}

/**
 * The JSON path grammar profiles use (contracts/profile.ts): a key, then `.key` or `[index]` steps,
 * e.g. `smoke.alarm`, `sensors[0].t`. Keys are identifiers (letters, digits, `_`, `-`), not quoted.
 */
const JSON_PATH = /^[A-Za-z_][A-Za-z0-9_-]*(?:\.[A-Za-z_][A-Za-z0-9_-]*|\[\d+\])*$/;

export function isJsonPath(path: string): boolean {
  return JSON_PATH.test(path);
}

/** An MQTT point's attributes agree with each other and with its type. */
export function checkMqttPoint(p: ProfilePoint, at: string, add: AddProblem): void {
  const m = p.mqtt;
  if (!m) { add(at, 'an MQTT profile needs a "mqtt" block on every point'); return; }
  if (m.topic.startsWith('/') || m.topic.endsWith('/') || m.topic.includes('//')) {
    add(`${at}/mqtt/topic`, `topic "${m.topic}" has an empty level; it is relative to the device's root, e.g. "telemetry" or "events/door"`);
  }
  if ((m.json === undefined) === (m.binary === undefined)) {
    add(`${at}/mqtt`, 'needs exactly one of "json" (a path into a JSON payload) or "binary" (a field of a fixed layout)');
    return;
  }
  if (m.json !== undefined) {
    if (!isJsonPath(m.json)) add(`${at}/mqtt/json`, `"${m.json}" is not a path: use keys joined by "." and [index], e.g. "smoke.alarm" or "sensors[0].t"`);
    return;
  }
  const b = m.binary!;
  if (b.bit !== undefined && !['bool', 'uint16', 'int16'].includes(b.dataType)) add(`${at}/mqtt/binary/bit`, '"bit" needs dataType bool, uint16 or int16');
  if (b.dataType === 'bool' && b.bit === undefined) add(`${at}/mqtt/binary/bit`, 'a bool needs "bit" (0-15) inside its 16-bit word');
  if (b.dataType === 'string' && b.length === undefined) add(`${at}/mqtt/binary/length`, 'a string needs "length" in bytes');
  if (b.dataType !== 'string' && b.length !== undefined) add(`${at}/mqtt/binary/length`, '"length" applies to strings only');
  if (b.dataType === 'string' && (b.order === 'BADC' || b.order === 'DCBA') && b.length !== undefined && b.length % 2 === 1) {
    add(`${at}/mqtt/binary/length`, `order ${b.order} swaps the two bytes of each 16-bit word: a string in it needs an even "length" (got ${b.length})`);
  }
  if (b.offset + fieldBytes(b) > 65536) add(`${at}/mqtt/binary/offset`, 'field runs past byte 65535');
  const isBit = b.dataType === 'bool' || b.bit !== undefined;
  if (b.dataType === 'string') {
    if (p.type !== 'string') add(`${at}/type`, 'dataType string reads as type string');
  } else if (isBit && p.type !== 'boolean') add(`${at}/type`, 'a bit reads as type boolean');
  else if (!isBit && p.type !== 'number') add(`${at}/type`, `dataType ${b.dataType} reads as type number`);
}

/**
 * On each topic: one payload style (JSON or a binary layout); no JSON path read twice or inside another
 * point's value; no byte of a binary layout read by two fields (bit fields may share a status word).
 */
export function checkMqttLayout(points: readonly ProfilePoint[], add: AddProblem): void {
  const names = points.map((p) => p.name);
  const style = new Map<string, { binary: boolean; index: number }>();
  const jsonPaths = new Map<string, Array<{ path: string; index: number }>>();
  const cells = new Cells(names, add);
  points.forEach((p, i) => {
    const m = p.mqtt;
    if (!m || (m.json === undefined) === (m.binary === undefined)) return;
    const at = `/points/${i}/mqtt`;
    const binary = m.binary !== undefined;
    const first = style.get(m.topic);
    if (first && first.binary !== binary) {
      add(at, `topic "${m.topic}" already carries ${first.binary ? 'a binary layout' : 'JSON'} (point "${names[first.index]}", /points/${first.index}): a topic's payload is either JSON or one binary layout`);
      return;
    }
    if (!first) style.set(m.topic, { binary, index: i });
    if (m.json !== undefined) {
      const seen = jsonPaths.get(m.topic) ?? [];
      for (const o of seen) {
        const where = `on topic "${m.topic}"`;
        if (o.path === m.json) add(`${at}/json`, `point "${names[o.index]}" (/points/${o.index}) already reads "${m.json}" ${where}`);
        else if (inside(m.json, o.path)) add(`${at}/json`, `"${m.json}" lies inside "${o.path}", the value of point "${names[o.index]}" (/points/${o.index}) ${where}`);
        else if (inside(o.path, m.json)) add(`${at}/json`, `"${m.json}" holds "${o.path}", the value of point "${names[o.index]}" (/points/${o.index}) ${where}`);
      }
      seen.push({ path: m.json, index: i });
      jsonPaths.set(m.topic, seen);
      return;
    }
    const b = m.binary!;
    const bytes = (from: number, n: number) => Array.from({ length: Math.max(0, Math.min(n, 65536 - from)) }, (_, k) => `byte ${from + k} of topic "${m.topic}"`);
    if (b.bit !== undefined) {
      cells.bit(i, `the status word at bytes ${b.offset}-${b.offset + 1} of topic "${m.topic}"`, b.bit, bytes(b.offset, 2), `${at}/binary/offset`, `${at}/binary/bit`);
    } else {
      cells.whole(i, bytes(b.offset, fieldBytes(b)), `${at}/binary/offset`);
    }
  });
}

/** Whether JSON path `inner` reaches into the value at `outer` (`a.b` or `a[0]` lies inside `a`). */
function inside(inner: string, outer: string): boolean {
  return inner.startsWith(`${outer}.`) || inner.startsWith(`${outer}[`);
}
