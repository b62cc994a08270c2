// MQTT payloads ⇄ raw point values, pure. A point reads either a path into a JSON object or a field of a
// fixed binary layout; binary fields use the Modbus data types and byte orders, decoded by the Modbus
// codec. A payload that does not fit gives a reason, never an exception: a sensor sending garbage must
// not stop the others.
import { GsError } from '../../../contracts/errors.js';
import type { ModbusPointAttributes, ProfilePoint as Point } from '../../../contracts/profile.js';
import type { BinaryField } from '../../../contracts/profile.js';
import { toRaw } from '../../pipeline/apply-profile.js';
import { decodeRegisters, encodeRegisters, pointWidth } from '../modbus/codec.js';
import type { RawValue } from '../driver.js';
import { getPath, setPath } from './json-path.js';

/** Stable reasons of a value that could not be read from a payload. */
export type DecodeReason = 'no_mqtt_attributes' | 'bad_payload' | 'path_not_found' | 'null_value' | 'type_mismatch' | 'short_payload' | 'decode_error';

export type Decoded = { ok: true; value: RawValue } | { ok: false; reason: DecodeReason; detail: string };

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** A payload parsed once for all the points it carries. */
export class Payload {
  private json?: { doc: unknown } | { error: string };

  constructor(readonly bytes: Buffer) {}

  /** The JSON object in the payload, or why there is none. */
  object(): { doc: unknown } | { error: string } {
    if (this.json) return this.json;
    try {
      const doc: unknown = JSON.parse(utf8.decode(this.bytes));
      this.json = doc !== null && typeof doc === 'object' && !Array.isArray(doc) ? { doc } : { error: `payload is JSON ${doc === null ? 'null' : Array.isArray(doc) ? 'array' : typeof doc}, not an object` };
    } catch (err) {
      this.json = { error: this.bytes.length === 0 ? 'payload is empty' : `payload is not JSON: ${(err as Error).message}` };
    }
    return this.json;
  }
}

export function decodePoint(payload: Payload, point: Point): Decoded {
  const m = point.mqtt;
  if (!m) return { ok: false, reason: 'no_mqtt_attributes', detail: `point ${point.name} has no mqtt block` };
  if (m.binary) return decodeBinary(payload.bytes, m.binary);
  if (m.json === undefined) return { ok: false, reason: 'no_mqtt_attributes', detail: `point ${point.name} has neither json nor binary` };
  const parsed = payload.object();
  if ('error' in parsed) return { ok: false, reason: 'bad_payload', detail: parsed.error };
  const v = getPath(parsed.doc, m.json);
  if (v === undefined) return { ok: false, reason: 'path_not_found', detail: `no "${m.json}" in the payload` };
  if (v === null) return { ok: false, reason: 'null_value', detail: `"${m.json}" is null` };
  if (!fits(v, point.type)) return { ok: false, reason: 'type_mismatch', detail: `"${m.json}" is ${Array.isArray(v) ? 'an array' : typeof v}; the point is a ${point.type}` };
  return { ok: true, value: v as RawValue };
}

/** What each point type accepts from JSON; the profile step converts number ⇄ boolean as for Modbus. */
function fits(v: unknown, type: Point['type']): boolean {
  switch (type) {
    case 'number':
    case 'boolean':
      return typeof v === 'number' || typeof v === 'boolean';
    case 'string':
      return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';
  }
}

/** The field's bytes in the payload: 2 per 16-bit word as in Modbus, `length` for strings. */
export function fieldBytes(field: BinaryField): number {
  return field.dataType === 'string' ? (field.length ?? 1) : pointWidth(asRegisters(field)) * 2;
}

/** A binary field seen as registers at address 0, so the Modbus codec reads it (string length in words). */
function asRegisters(field: BinaryField): ModbusPointAttributes {
  return {
    table: 'holding_register',
    address: 0,
    dataType: field.dataType,
    ...(field.order !== undefined ? { order: field.order } : {}),
    ...(field.bit !== undefined ? { bit: field.bit } : {}),
    ...(field.dataType === 'string' ? { length: Math.ceil((field.length ?? 1) / 2) } : {}),
  };
}

function decodeBinary(bytes: Buffer, field: BinaryField): Decoded {
  const n = fieldBytes(field);
  if (bytes.length < field.offset + n) {
    return { ok: false, reason: 'short_payload', detail: `field at byte ${field.offset} needs ${n} bytes; the payload has ${bytes.length}` };
  }
  const attrs = asRegisters(field);
  // An odd string length is padded to whole words with a NUL, which the Modbus codec strips.
  const wire = Buffer.alloc(pointWidth(attrs) * 2);
  bytes.copy(wire, 0, field.offset, field.offset + n);
  try {
    return { ok: true, value: decodeRegisters(wire, attrs) };
  } catch (err) {
    return { ok: false, reason: 'decode_error', detail: (err as Error).message };
  }
}

/**
 * The payload a device sends (or a command carries) for these points' raw values: one JSON object with
 * each value at its path, or one buffer with each field at its offset. Throws GS_ERR_DRIVER_VALUE when
 * a value does not fit its binary field.
 */
export function encodePayload(points: readonly Point[], values: Readonly<Record<string, RawValue>>): Buffer {
  const binary = points.filter((p) => p.mqtt?.binary);
  if (binary.length > 0 && binary.length === points.length) {
    const size = Math.max(...binary.map((p) => p.mqtt!.binary!.offset + fieldBytes(p.mqtt!.binary!)));
    const out = Buffer.alloc(size);
    for (const p of binary) {
      const f = p.mqtt!.binary!;
      const v = values[p.name];
      if (v === undefined) continue;
      if (f.dataType === 'string' && typeof v === 'string' && Buffer.byteLength(v) > fieldBytes(f)) {
        throw new GsError('GS_ERR_DRIVER_VALUE', `"${v}" needs ${Buffer.byteLength(v)} bytes; ${p.name} holds ${fieldBytes(f)}`);
      }
      const wire = encodeRegisters(v, asRegisters(f), Buffer.from(out.subarray(f.offset, f.offset + 2)));
      // Bits share their word with others: merge instead of overwrite.
      if (f.bit !== undefined || f.dataType === 'bool') wire.copy(out, f.offset, 0, 2);
      else wire.copy(out, f.offset, 0, fieldBytes(f));
    }
    return out;
  }
  if (binary.length > 0) throw new GsError('GS_ERR_DRIVER_VALUE', 'JSON and binary points cannot share one payload');
  const doc: Record<string, unknown> = {};
  for (const p of points) {
    const v = values[p.name];
    if (v !== undefined && p.mqtt?.json !== undefined) setPath(doc, p.mqtt.json, v);
  }
  return Buffer.from(JSON.stringify(doc));
}

/** One point's payload. */
export function encodePointPayload(point: Point, value: RawValue): Buffer {
  return encodePayload([point], { [point.name]: value });
}

/**
 * A plausible raw value for the point: the middle of its range (through scale/offset), true, or a word.
 * Integer fields get an integer that fits them.
 */
export function sampleRawValue(point: Point): RawValue {
  switch (point.type) {
    case 'boolean':
      return true;
    case 'string':
      return point.mqtt?.binary ? 'ok'.slice(0, point.mqtt.binary.length ?? 1) : 'sample';
    case 'number': {
      const mid = point.range ? (point.range.min + point.range.max) / 2 : 1;
      const raw = toRaw(mid, point);
      const dt = point.mqtt?.binary?.dataType;
      if (dt === undefined || dt === 'float32' || dt === 'float64') return raw;
      const [lo, hi] = INT_LIMITS[dt] ?? [0, 1];
      return Math.min(hi, Math.max(lo, Math.round(raw)));
    }
  }
}

const INT_LIMITS: Partial<Record<BinaryField['dataType'], [number, number]>> = {
  int16: [-0x8000, 0x7fff],
  uint16: [0, 0xffff],
  int32: [-0x80000000, 0x7fffffff],
  uint32: [0, 0xffffffff],
};

/** A message carrying only this point's sample value: decodePoint reads sampleRawValue(point) back from it. */
export function samplePointPayload(point: Point): Buffer {
  return encodePointPayload(point, sampleRawValue(point));
}

/** A sample message for the points (all on one topic): what a profile's device would publish. */
export function samplePayload(points: readonly Point[]): Buffer {
  return encodePayload(points, Object.fromEntries(points.map((p) => [p.name, sampleRawValue(p)])));
}
