// Modbus wire values ⇄ raw values, pure and Buffer-based. Registers arrive as big-endian 16-bit words;
// a point's `order` says how the bytes of a wider value are arranged across them (contracts/profile.ts).
import { GsError } from '../../../contracts/errors.js';
import type { ByteOrder, ModbusDataType, ModbusTable } from '../../../contracts/profile.js';
import type { ModbusPointAttributes as ModbusAttrs } from '../../../contracts/profile.js';
import type { RawValue } from '../driver.js';

const WIDTH: Record<Exclude<ModbusDataType, 'string'>, number> = {
  bool: 1, int16: 1, uint16: 1, int32: 2, uint32: 2, float32: 2, float64: 4,
};

export function isBitTable(table: ModbusTable): boolean {
  return table === 'coil' || table === 'discrete_input';
}

/**
 * How many registers (or, in a bit table, bits) a point occupies. In a coil or discrete-input table a
 * bool is one bit; any other type is a bank of bits read as its register image (bankToRegisters).
 */
export function pointWidth(attrs: ModbusAttrs): number {
  const registers = attrs.dataType === 'string' ? (attrs.length ?? 1) : WIDTH[attrs.dataType];
  if (isBitTable(attrs.table)) return attrs.dataType === 'bool' ? 1 : registers * 16;
  return registers;
}

/** The same point as if its words sat in registers: how a bank of coils is decoded and encoded. */
function asRegisters(attrs: ModbusAttrs): ModbusAttrs {
  return { ...attrs, table: 'holding_register' };
}

/**
 * Reorders bytes between canonical big-endian (ABCD…) and the wire. Both directions are the same
 * permutation: CDAB/DCBA reverse the 16-bit words, BADC/DCBA swap the two bytes inside each word.
 * For 64-bit values this gives the conventional forms (CDAB = GHEFCDAB, DCBA = full little-endian).
 */
export function reorder(bytes: Buffer, order: ByteOrder, opts: { words?: boolean } = {}): Buffer {
  const out = Buffer.from(bytes);
  const swapWords = opts.words !== false && (order === 'CDAB' || order === 'DCBA');
  const swapBytes = order === 'BADC' || order === 'DCBA';
  const n = out.length / 2;
  if (swapWords) {
    for (let i = 0; i < n; i++) bytes.copy(out, i * 2, (n - 1 - i) * 2, (n - i) * 2);
  }
  if (swapBytes) {
    for (let i = 0; i < out.length; i += 2) {
      const a = out[i]!;
      out[i] = out[i + 1]!;
      out[i + 1] = a;
    }
  }
  return out;
}

/** Decodes a register point from its wire bytes (exactly 2 × width bytes). */
export function decodeRegisters(wire: Buffer, attrs: ModbusAttrs): RawValue {
  const width = pointWidth(attrs);
  if (wire.length < width * 2) throw new GsError('GS_ERR_MODBUS_FRAME', `expected ${width * 2} bytes, got ${wire.length}`);
  const order = attrs.order ?? 'ABCD';
  const bytes = wire.subarray(0, width * 2);
  if (attrs.dataType === 'string') {
    // Strings keep their register order; only the byte order inside each register applies.
    const s = reorder(bytes, order, { words: false }).toString('utf8');
    return s.replace(/\0+$/, '');
  }
  const b = reorder(bytes, order);
  if (attrs.bit !== undefined || attrs.dataType === 'bool') return ((b.readUInt16BE(0) >> (attrs.bit ?? 0)) & 1) === 1;
  switch (attrs.dataType) {
    case 'int16': return b.readInt16BE(0);
    case 'uint16': return b.readUInt16BE(0);
    case 'int32': return b.readInt32BE(0);
    case 'uint32': return b.readUInt32BE(0);
    case 'float32': return b.readFloatBE(0);
    case 'float64': return b.readDoubleBE(0);
    default: throw new GsError('GS_ERR_MODBUS_FRAME', `cannot decode dataType ${String(attrs.dataType)}`);
  }
}

const INT_RANGE: Partial<Record<ModbusDataType, [number, number]>> = {
  int16: [-0x8000, 0x7fff],
  uint16: [0, 0xffff],
  int32: [-0x80000000, 0x7fffffff],
  uint32: [0, 0xffffffff],
};

function bad(message: string): GsError {
  return new GsError('GS_ERR_DRIVER_VALUE', message);
}

/**
 * Encodes a raw value into wire bytes. A bit inside a register needs the register's `current` wire
 * bytes (read-modify-write): only that bit changes.
 */
export function encodeRegisters(value: RawValue, attrs: ModbusAttrs, current?: Buffer): Buffer {
  const width = pointWidth(attrs);
  const order = attrs.order ?? 'ABCD';
  if (attrs.dataType === 'string') {
    if (typeof value !== 'string') throw bad(`a string point takes a string, not ${typeof value}`);
    const text = Buffer.from(value, 'utf8');
    if (text.length > width * 2) throw bad(`"${value}" needs ${text.length} bytes; the point holds ${width * 2}`);
    const b = Buffer.alloc(width * 2);
    text.copy(b);
    return reorder(b, order, { words: false });
  }
  const b = Buffer.alloc(width * 2);
  if (attrs.bit !== undefined || attrs.dataType === 'bool') {
    if (typeof value !== 'boolean') throw bad(`a bit takes true or false, not ${typeof value}`);
    const word = current ? reorder(current.subarray(0, 2), order).readUInt16BE(0) : 0;
    const mask = 1 << (attrs.bit ?? 0);
    b.writeUInt16BE(value ? word | mask : word & ~mask & 0xffff, 0);
    return reorder(b, order);
  }
  if (typeof value !== 'number') throw bad(`a ${attrs.dataType} point takes a number, not ${typeof value}`);
  const range = INT_RANGE[attrs.dataType];
  if (range) {
    if (!Number.isInteger(value) || value < range[0] || value > range[1]) {
      throw bad(`${value} does not fit ${attrs.dataType} (${range[0]}…${range[1]})`);
    }
  }
  switch (attrs.dataType) {
    case 'int16': b.writeInt16BE(value, 0); break;
    case 'uint16': b.writeUInt16BE(value, 0); break;
    case 'int32': b.writeInt32BE(value, 0); break;
    case 'uint32': b.writeUInt32BE(value, 0); break;
    case 'float32': b.writeFloatBE(value, 0); break;
    case 'float64': b.writeDoubleBE(value, 0); break;
  }
  return reorder(b, order);
}

/** Reads bit `index` from coil/discrete-input response bytes (LSB of the first byte is the first bit). */
export function decodeBit(packed: Buffer, index: number): boolean {
  const byte = packed[index >> 3];
  if (byte === undefined) throw new GsError('GS_ERR_MODBUS_FRAME', `bit ${index} is past the ${packed.length}-byte response`);
  return ((byte >> (index & 7)) & 1) === 1;
}

/**
 * A bank of coils as register bytes: 16 coils per word, the first coil the least significant bit (how
 * relay modules map a 16-bit output word onto their coils).
 */
export function bankToRegisters(packed: Buffer, first: number, bits: number): Buffer {
  const out = Buffer.alloc(Math.ceil(bits / 16) * 2);
  for (let i = 0; i < bits; i++) {
    if (!decodeBit(packed, first + i)) continue;
    const at = (i >> 4) * 2;
    out.writeUInt16BE(out.readUInt16BE(at) | (1 << (i & 15)), at);
  }
  return out;
}

/** The inverse of bankToRegisters: the coil states a write of these register bytes sets. */
export function registersToBank(wire: Buffer): boolean[] {
  const out: boolean[] = [];
  for (let i = 0; i < wire.length * 8; i++) out.push(((wire.readUInt16BE((i >> 4) * 2) >> (i & 15)) & 1) === 1);
  return out;
}

/** Decodes a coil or discrete-input point starting at bit `first` of a bit-read response. */
export function decodeBitPoint(packed: Buffer, first: number, attrs: ModbusAttrs): RawValue {
  if (attrs.dataType === 'bool') return decodeBit(packed, first);
  return decodeRegisters(bankToRegisters(packed, first, pointWidth(attrs)), asRegisters(attrs));
}

/** The coil states that write `value` to a coil point: one for a bool, the whole bank otherwise. */
export function encodeBitPoint(value: RawValue, attrs: ModbusAttrs): boolean[] {
  if (attrs.dataType === 'bool') {
    if (typeof value !== 'boolean') throw bad(`a coil takes true or false, not ${typeof value}`);
    return [value];
  }
  return registersToBank(encodeRegisters(value, asRegisters(attrs)));
}

/** Packs bits as a coil write carries them. */
export function encodeBits(bits: readonly boolean[]): Buffer {
  const out = Buffer.alloc(Math.ceil(bits.length / 8));
  bits.forEach((on, i) => {
    if (on) out[i >> 3] = out[i >> 3]! | (1 << (i & 7));
  });
  return out;
}

/** Big-endian words as modbus-serial's writeRegisters takes them. */
export function toWords(wire: Buffer): number[] {
  const out: number[] = [];
  for (let i = 0; i + 1 < wire.length; i += 2) out.push(wire.readUInt16BE(i));
  return out;
}

export function fromWords(words: readonly number[]): Buffer {
  const b = Buffer.alloc(words.length * 2);
  words.forEach((w, i) => b.writeUInt16BE(w & 0xffff, i * 2));
  return b;
}
