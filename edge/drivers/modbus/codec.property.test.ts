// Property tests: for every data type and byte order, whatever value fast-check draws, encoding then
// decoding gives it back; for the integer types the wire side is a bijection too.
import fc from 'fast-check';
import t from 'tap';
import { BYTE_ORDERS, type ModbusDataType, type ModbusPointAttributes as ModbusAttrs } from '../../../contracts/profile.js';
import type { RawValue } from '../driver.js';
import { decodeBitPoint, decodeRegisters, encodeBitPoint, encodeBits, encodeRegisters, pointWidth, reorder } from './codec.js';

const u32 = fc.bigInt({ min: 0n, max: 0xffff_ffffn }).map(Number);
const NUMBERS: Record<Exclude<ModbusDataType, 'bool' | 'string'>, fc.Arbitrary<number>> = {
  int16: fc.integer({ min: -0x8000, max: 0x7fff }),
  uint16: fc.integer({ min: 0, max: 0xffff }),
  int32: fc.integer({ min: -0x8000_0000, max: 0x7fff_ffff }),
  uint32: u32,
  float32: fc.float(), // every float32, with -0, ±Infinity and NaN
  float64: fc.double(),
};
const INTEGERS = ['int16', 'uint16', 'int32', 'uint32'] as const;

const sameValue = (a: RawValue, b: RawValue) => (typeof a === 'number' && typeof b === 'number' ? Object.is(a, b) : a === b);
const at = (dataType: ModbusDataType, order: (typeof BYTE_ORDERS)[number], extra: Partial<ModbusAttrs> = {}): ModbusAttrs =>
  ({ table: 'holding_register', address: 0, dataType, order, ...extra });

t.test('numbers: decode(encode(v)) = v for every type and byte order', async (t) => {
  for (const order of BYTE_ORDERS) {
    for (const [dataType, values] of Object.entries(NUMBERS)) {
      const attrs = at(dataType as ModbusDataType, order);
      fc.assert(fc.property(values, (v) => {
        const wire = encodeRegisters(v, attrs);
        return wire.length === pointWidth(attrs) * 2 && sameValue(decodeRegisters(wire, attrs), v);
      }));
      t.pass(`${dataType} ${order}`);
    }
  }
});

t.test('integers: every wire image decodes to a value that encodes back to the same bytes', async (t) => {
  for (const order of BYTE_ORDERS) {
    for (const dataType of INTEGERS) {
      const attrs = at(dataType, order);
      const bytes = pointWidth(attrs) * 2;
      fc.assert(fc.property(fc.uint8Array({ minLength: bytes, maxLength: bytes }), (raw) => {
        const wire = Buffer.from(raw);
        return encodeRegisters(decodeRegisters(wire, attrs), attrs).equals(wire);
      }));
      t.pass(`${dataType} ${order}`);
    }
  }
});

t.test('strings: any text that fits comes back, in every byte order', async (t) => {
  // Trailing NULs are padding on the wire, so text that ends in NUL cannot round-trip; nor can text too long.
  const text = fc.string({ unit: 'binary', maxLength: 40 }).filter((s) => !s.endsWith('\0'));
  for (const order of BYTE_ORDERS) {
    fc.assert(fc.property(text, fc.integer({ min: 1, max: 125 }), (s, length) => {
      fc.pre(Buffer.byteLength(s, 'utf8') <= length * 2);
      const attrs = at('string', order, { length });
      return decodeRegisters(encodeRegisters(s, attrs), attrs) === s;
    }));
    t.pass(`string ${order}`);
  }
});

t.test('bit fields: writing one bit reads back and leaves the other fifteen as they were', async (t) => {
  for (const order of BYTE_ORDERS) {
    fc.assert(fc.property(fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 15 }), fc.boolean(), (word, bit, v) => {
      const current = encodeRegisters(word, at('uint16', order));
      const attrs = at('bool', order, { bit });
      const wire = encodeRegisters(v, attrs, current);
      const after = decodeRegisters(wire, at('uint16', order)) as number;
      return decodeRegisters(wire, attrs) === v && (after & ~(1 << bit) & 0xffff) === (word & ~(1 << bit) & 0xffff);
    }));
    t.pass(`bits ${order}`);
  }
});

t.test('banks of coils: a value spread over coils comes back, wherever the bank starts in the response', async (t) => {
  for (const order of BYTE_ORDERS) {
    for (const dataType of ['uint16', 'int16', 'uint32', 'int32'] as const) {
      const attrs: ModbusAttrs = { table: 'coil', address: 0, dataType, order };
      fc.assert(fc.property(NUMBERS[dataType], fc.array(fc.boolean(), { maxLength: 20 }), (v, before) => {
        const bits = encodeBitPoint(v, attrs);
        return bits.length === pointWidth(attrs) && decodeBitPoint(encodeBits([...before, ...bits, true]), before.length, attrs) === v;
      }));
      t.pass(`coil bank ${dataType} ${order}`);
    }
  }
});

t.test('the byte-order permutation is its own inverse', async (t) => {
  const words = fc.integer({ min: 1, max: 8 }).chain((n) => fc.uint8Array({ minLength: n * 2, maxLength: n * 2 }));
  for (const order of BYTE_ORDERS) {
    fc.assert(fc.property(words, (raw) => {
      const b = Buffer.from(raw);
      return reorder(reorder(b, order), order).equals(b) && reorder(reorder(b, order, { words: false }), order, { words: false }).equals(b);
    }));
    t.pass(order);
  }
});
