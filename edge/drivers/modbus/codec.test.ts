import t from 'tap';
import { BYTE_ORDERS, type ByteOrder } from '../../../contracts/profile.js';
import type { ModbusPointAttributes as ModbusAttrs } from '../../../contracts/profile.js';
import { decodeBit, decodeRegisters, encodeBits, encodeRegisters, fromWords, pointWidth, toWords } from './codec.js';

const F32_MAX = 3.4028234663852886e38;
const F32_TINY = 1.401298464324817e-45; // smallest subnormal
const EDGES: Record<string, Array<number | string | boolean>> = {
  int16: [0, 1, -1, 32767, -32768, 12345, -12345],
  uint16: [0, 1, 255, 256, 65535, 0x8001],
  int32: [0, 1, -1, 2147483647, -2147483648, 65536, -65537, 123456789],
  uint32: [0, 1, 65535, 65536, 4294967295, 0x80000001],
  float32: [0, -0, 1, -1, Math.fround(123.456), Math.fround(-0.001), F32_MAX, -F32_MAX, F32_TINY, Infinity, -Infinity, NaN],
  float64: [0, -0, 1, -1, 123.456, Math.PI, Number.MAX_VALUE, -Number.MAX_VALUE, Number.MIN_VALUE, Infinity, -Infinity, NaN],
  string: ['', 'A', 'AB', 'RWL-20', '水位计', 'ABCDEFGHIJ'],
};

const same = (a: unknown, b: unknown) => (typeof a === 'number' && typeof b === 'number' ? Object.is(a, b) : a === b);

t.test('encode → decode is the identity for every type × byte order on edge values', async (t) => {
  let checked = 0;
  for (const order of BYTE_ORDERS) {
    for (const [dataType, values] of Object.entries(EDGES)) {
      const attrs = { table: 'holding_register', address: 0, dataType, order, ...(dataType === 'string' ? { length: 5 } : {}) } as ModbusAttrs;
      for (const v of values) {
        const wire = encodeRegisters(v, attrs);
        t.equal(wire.length, pointWidth(attrs) * 2, `${dataType} ${order} width`);
        const back = decodeRegisters(wire, attrs);
        if (!same(back, v)) t.fail(`${dataType} ${order}: ${String(v)} came back as ${String(back)}`);
        checked++;
      }
    }
    // A bit inside a register: only that bit changes, the others survive the read-modify-write.
    for (let bit = 0; bit < 16; bit++) {
      const attrs: ModbusAttrs = { table: 'holding_register', address: 3, dataType: 'bool', bit, order };
      for (const other of [0x0000, 0xffff, 0xa5a5]) {
        const current = encodeRegisters(other, { table: 'holding_register', address: 3, dataType: 'uint16', order });
        for (const v of [true, false]) {
          const wire = encodeRegisters(v, attrs, current);
          t.equal(decodeRegisters(wire, attrs), v);
          const word = decodeRegisters(wire, { ...attrs, dataType: 'uint16', bit: undefined }) as number;
          if ((word & ~(1 << bit) & 0xffff) !== (other & ~(1 << bit) & 0xffff)) t.fail(`bit ${bit} ${order} disturbed other bits`);
          checked++;
        }
      }
    }
  }
  t.ok(checked > 500, `${checked} combinations checked`);
});

t.test('known vectors: float32 123.456 = 0x42F6E979 in each byte order', async (t) => {
  const expected: Record<ByteOrder, string> = { ABCD: '42f6e979', CDAB: 'e97942f6', BADC: 'f64279e9', DCBA: '79e9f642' };
  for (const order of BYTE_ORDERS) {
    const attrs: ModbusAttrs = { table: 'holding_register', address: 0, dataType: 'float32', order };
    t.equal(encodeRegisters(123.456, attrs).toString('hex'), expected[order], order);
    t.equal(decodeRegisters(Buffer.from(expected[order], 'hex'), attrs), Math.fround(123.456), `${order} decodes`);
  }
  const u32: ModbusAttrs = { table: 'holding_register', address: 1, dataType: 'uint32', order: 'ABCD' };
  t.equal(decodeRegisters(fromWords([0x0001, 0x2345]), u32), 0x12345, 'uint32 ABCD: high word first');
  t.equal(decodeRegisters(fromWords([0x2345, 0x0001]), { ...u32, order: 'CDAB' }), 0x12345, 'uint32 CDAB: low word first');
  t.equal(decodeRegisters(fromWords([0xffff]), { ...u32, dataType: 'int16' }), -1, 'int16 is signed');
  // float64 123.456 = 0x405EDD2F1A9FBE77; CDAB reverses the four words, DCBA is fully little-endian.
  const f64: Record<ByteOrder, string> = { ABCD: '405edd2f1a9fbe77', CDAB: 'be771a9fdd2f405e', BADC: '5e402fdd9f1a77be', DCBA: '77be9f1a2fdd5e40' };
  for (const order of BYTE_ORDERS) {
    t.equal(encodeRegisters(123.456, { table: 'holding_register', address: 0, dataType: 'float64', order }).toString('hex'), f64[order], `float64 ${order}`);
  }
  t.equal(decodeRegisters(Buffer.from('524c2d323000', 'hex'), { table: 'holding_register', address: 0, dataType: 'string', length: 3 }), 'RL-20', 'string: two characters per register, NUL padding dropped');
  t.equal(decodeRegisters(Buffer.from('4c52322d0030', 'hex'), { table: 'holding_register', address: 0, dataType: 'string', length: 3, order: 'BADC' }), 'RL-20', 'string BADC swaps the bytes in each register');
});

t.test('coil and discrete-input bits, packed LSB first', async (t) => {
  const bits = [true, false, true, true, false, false, false, false, true, false, true];
  const packed = encodeBits(bits);
  t.equal(packed.toString('hex'), '0d05');
  bits.forEach((b, i) => t.equal(decodeBit(packed, i), b, `bit ${i}`));
  t.throws(() => decodeBit(packed, 16), { code: 'GS_ERR_MODBUS_FRAME' });
  t.same(toWords(fromWords([1, 0xffff, 0x1234])), [1, 0xffff, 0x1234]);
});

t.test('values that do not fit are refused with GS_ERR_DRIVER_VALUE', async (t) => {
  const at = (dataType: string, extra: object = {}) => ({ table: 'holding_register', address: 0, dataType, ...extra }) as ModbusAttrs;
  t.throws(() => encodeRegisters(65536, at('uint16')), { code: 'GS_ERR_DRIVER_VALUE' });
  t.throws(() => encodeRegisters(-1, at('uint32')), { code: 'GS_ERR_DRIVER_VALUE' });
  t.throws(() => encodeRegisters(1.5, at('int16')), { code: 'GS_ERR_DRIVER_VALUE' });
  t.throws(() => encodeRegisters('x', at('float32')), { code: 'GS_ERR_DRIVER_VALUE' });
  t.throws(() => encodeRegisters(1, at('bool', { bit: 0 })), { code: 'GS_ERR_DRIVER_VALUE' });
  t.throws(() => encodeRegisters('ABCDE', at('string', { length: 2 })), { code: 'GS_ERR_DRIVER_VALUE' });
  t.throws(() => decodeRegisters(Buffer.alloc(2), at('float32')), { code: 'GS_ERR_MODBUS_FRAME' });
});
