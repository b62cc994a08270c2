// Property tests: whatever fast-check draws, a value encoded into its payload decodes back, and no byte
// string makes the decoder throw.
import fc from 'fast-check';
import t from 'tap';
import { BYTE_ORDERS, type ProfilePoint as Point } from '../../../contracts/profile.js';
import type { RawValue } from '../driver.js';
import { decodePoint, encodePointPayload, Payload, type DecodeReason } from './codec.js';

const NUMBERS = {
  int16: fc.integer({ min: -0x8000, max: 0x7fff }),
  uint16: fc.integer({ min: 0, max: 0xffff }),
  int32: fc.integer({ min: -0x8000_0000, max: 0x7fff_ffff }),
  uint32: fc.integer({ min: 0, max: 0xffff_ffff }),
  float32: fc.float(),
  float64: fc.double(),
};
const sameValue = (a: RawValue, b: RawValue) => (typeof a === 'number' && typeof b === 'number' ? Object.is(a, b) : a === b);

const key = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_-]{0,7}$/);
const path = fc
  .tuple(key, fc.array(fc.oneof(key.map((k) => `.${k}`), fc.nat({ max: 4 }).map((i) => `[${i}]`)), { maxLength: 4 }))
  .map(([first, rest]) => first + rest.join(''));
const jsonValue = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((d) => (Object.is(d, -0) ? 0 : d)),
  fc.boolean(),
  fc.string(),
);

t.test('binary: decode(encode(v)) = v for every number type, byte order and offset', async (t) => {
  for (const order of BYTE_ORDERS) {
    for (const [dataType, values] of Object.entries(NUMBERS)) {
      fc.assert(fc.property(values, fc.nat({ max: 64 }), (v, offset) => {
        const p: Point = { name: 'x', type: 'number', mqtt: { topic: 't', binary: { offset, dataType: dataType as keyof typeof NUMBERS, order } } };
        const d = decodePoint(new Payload(encodePointPayload(p, v)), p);
        return d.ok && sameValue(d.value, v);
      }));
      t.pass(`${dataType} ${order}`);
    }
  }
});

t.test('binary: bits and strings come back', async (t) => {
  fc.assert(fc.property(fc.nat({ max: 15 }), fc.boolean(), fc.nat({ max: 16 }), (bit, v, offset) => {
    const p: Point = { name: 'b', type: 'boolean', mqtt: { topic: 't', binary: { offset, dataType: 'uint16', bit } } };
    const d = decodePoint(new Payload(encodePointPayload(p, v)), p);
    return d.ok && d.value === v;
  }));
  // Whole words: with a byte-swapping order an odd length has no defined last byte.
  fc.assert(fc.property(fc.stringMatching(/^[ -~]{0,12}$/), fc.constantFrom(...BYTE_ORDERS), (s, order) => {
    const p: Point = { name: 's', type: 'string', mqtt: { topic: 't', binary: { offset: 3, dataType: 'string', length: 12, order } } };
    const d = decodePoint(new Payload(encodePointPayload(p, s)), p);
    return d.ok && d.value === s;
  }));
  t.pass('bits at every position; ASCII strings in every order');
});

t.test('JSON: any path and value survive the round trip', async (t) => {
  fc.assert(fc.property(path, jsonValue, (at, v) => {
    const type = typeof v === 'number' ? 'number' : typeof v === 'boolean' ? 'boolean' : 'string';
    const p: Point = { name: 'x', type, mqtt: { topic: 't', json: at } };
    const d = decodePoint(new Payload(encodePointPayload(p, v)), p);
    return d.ok && sameValue(d.value, v);
  }));
  t.pass('round trip');
});

const REASONS: DecodeReason[] = ['bad_payload', 'path_not_found', 'null_value', 'type_mismatch', 'short_payload', 'decode_error'];

t.test('any bytes: a value or a known reason, never an exception', async (t) => {
  const points: Point[] = [
    { name: 'j', type: 'number', mqtt: { topic: 't', json: 'a.b[1]' } },
    { name: 'f', type: 'number', mqtt: { topic: 't', binary: { offset: 2, dataType: 'float64', order: 'BADC' } } },
    { name: 's', type: 'string', mqtt: { topic: 't', binary: { offset: 0, dataType: 'string', length: 7 } } },
  ];
  const bytes = fc.oneof(fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a)), fc.json().map((s) => Buffer.from(s)));
  fc.assert(fc.property(bytes, (b) => {
    const payload = new Payload(b);
    return points.every((p) => {
      const d = decodePoint(payload, p);
      return d.ok || REASONS.includes(d.reason);
    });
  }));
  t.pass('no throw');
});
