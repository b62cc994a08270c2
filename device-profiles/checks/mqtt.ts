import type { ProfilePoint } from '../../contracts/profile.js';
import type { AddProblem } from './index.js';

const BYTE_WIDTH: Record<string, number> = {
  bool: 2, int16: 2, uint16: 2, int32: 4, uint32: 4, float32: 4, float64: 8,
};

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
  const width = b.dataType === 'string' ? (b.length ?? 1) : (BYTE_WIDTH[b.dataType] ?? 2);
  if (b.offset + width > 65536) add(`${at}/mqtt/binary/offset`, 'field runs past byte 65535');
  const isBit = b.dataType === 'bool' || b.bit !== undefined;
  if (b.dataType === 'string') {
    if (p.type !== 'string') add(`${at}/type`, 'dataType string reads as type string');
  } else if (isBit && p.type !== 'boolean') add(`${at}/type`, 'a bit reads as type boolean');
  else if (!isBit && p.type !== 'number') add(`${at}/type`, `dataType ${b.dataType} reads as type number`);
}
