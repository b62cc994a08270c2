import type { ProfilePoint } from '../../contracts/profile.js';
import type { AddProblem } from './index.js';
import { Cells } from './layout.js';
import { INTEGER_TYPES, isIntegerType, WORDS } from './wire.js';

function isBitTable(table: string): boolean {
  return table === 'coil' || table === 'discrete_input';
}

/**
 * Registers a point occupies or, in a coil / discrete-input table, bits: one for a bool, 16 per
 * register of an integer type read as a bank of bits (edge/drivers/modbus/codec.ts decodeBitPoint).
 */
function width(m: NonNullable<ProfilePoint['modbus']>): number {
  const registers = m.dataType === 'string' ? (m.length ?? 1) : WORDS[m.dataType];
  if (isBitTable(m.table)) return m.dataType === 'bool' ? 1 : registers * 16;
  return registers;
}

/** A Modbus point's attributes agree with each other and with its type. */
export function checkModbusPoint(p: ProfilePoint, at: string, add: AddProblem): void {
  const m = p.modbus;
  if (!m) { add(at, 'a Modbus profile needs a "modbus" block on every point'); return; }
  const bitTable = isBitTable(m.table);
  if (bitTable && m.dataType !== 'bool' && !isIntegerType(m.dataType)) {
    add(`${at}/modbus/dataType`, `${m.table} holds single bits: dataType must be bool, or an integer type (${INTEGER_TYPES.join(', ')}) read as a bank of 16 bits per register`);
  }
  if (!bitTable && m.dataType === 'bool' && m.bit === undefined) add(`${at}/modbus/bit`, 'a bool in a register needs "bit" (0-15)');
  if (m.bit !== undefined && bitTable) add(`${at}/modbus/bit`, `"bit" applies to registers, not to ${m.table}`);
  if (m.bit !== undefined && !['bool', 'uint16', 'int16'].includes(m.dataType)) add(`${at}/modbus/bit`, '"bit" needs dataType bool, uint16 or int16');
  if (m.dataType === 'string' && m.length === undefined) add(`${at}/modbus/length`, 'a string needs "length" in registers');
  if (m.dataType !== 'string' && m.length !== undefined) add(`${at}/modbus/length`, '"length" applies to strings only');
  if (m.address + width(m) - 1 > 65535) add(`${at}/modbus/address`, `point runs past ${bitTable ? 'bit' : 'register'} 65535`);
  if ((m.dataType === 'bool' || m.bit !== undefined) !== (p.type === 'boolean') && m.dataType !== 'string') {
    if (m.dataType === 'bool' || m.bit !== undefined) add(`${at}/type`, 'a bit reads as type boolean');
    else add(`${at}/type`, `dataType ${m.dataType} reads as type number`);
  }
  if (m.dataType === 'string' && p.type !== 'string') add(`${at}/type`, 'dataType string reads as type string');
  if ((p.access === 'readwrite' || p.access === 'write') && (m.table === 'discrete_input' || m.table === 'input_register')) {
    add(`${at}/access`, `${m.table} is read-only in Modbus`);
  }
}

/** No two points read the same register, coil or input; bit fields may share their status word. */
export function checkModbusLayout(points: readonly ProfilePoint[], add: AddProblem): void {
  const cells = new Cells(points.map((p) => p.name), add);
  points.forEach((p, i) => {
    const m = p.modbus;
    if (!m) return;
    const at = `/points/${i}/modbus`;
    if (m.bit !== undefined && !isBitTable(m.table)) {
      const word = `${m.table} ${m.address}`;
      cells.bit(i, word, m.bit, [word], `${at}/address`, `${at}/bit`);
      return;
    }
    const n = Math.min(width(m), 65536 - m.address);
    cells.whole(i, Array.from({ length: n }, (_, k) => `${m.table} ${m.address + k}`), `${at}/address`);
  });
}
