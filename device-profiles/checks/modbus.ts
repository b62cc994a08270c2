import type { ProfilePoint } from '../../contracts/profile.js';
import type { AddProblem } from './index.js';

const REGISTER_WIDTH: Record<string, number> = {
  bool: 1, int16: 1, uint16: 1, int32: 2, uint32: 2, float32: 2, float64: 4,
};

/** A Modbus point's attributes agree with each other and with its type. */
export function checkModbusPoint(p: ProfilePoint, at: string, add: AddProblem): void {
  const m = p.modbus;
  if (!m) { add(at, 'a Modbus profile needs a "modbus" block on every point'); return; }
  const bitTable = m.table === 'coil' || m.table === 'discrete_input';
  if (bitTable && m.dataType !== 'bool') add(`${at}/modbus/dataType`, `${m.table} holds single bits: dataType must be bool`);
  if (!bitTable && m.dataType === 'bool' && m.bit === undefined) add(`${at}/modbus/bit`, 'a bool in a register needs "bit" (0-15)');
  if (m.bit !== undefined && bitTable) add(`${at}/modbus/bit`, `"bit" applies to registers, not to ${m.table}`);
  if (m.bit !== undefined && !['bool', 'uint16', 'int16'].includes(m.dataType)) add(`${at}/modbus/bit`, '"bit" needs dataType bool, uint16 or int16');
  if (m.dataType === 'string' && m.length === undefined) add(`${at}/modbus/length`, 'a string needs "length" in registers');
  if (m.dataType !== 'string' && m.length !== undefined) add(`${at}/modbus/length`, '"length" applies to strings only');
  const width = m.dataType === 'string' ? (m.length ?? 1) : (REGISTER_WIDTH[m.dataType] ?? 1);
  if (m.address + width - 1 > 65535) add(`${at}/modbus/address`, 'point runs past register 65535');
  if ((m.dataType === 'bool' || m.bit !== undefined) !== (p.type === 'boolean') && m.dataType !== 'string') {
    if (m.dataType === 'bool' || m.bit !== undefined) add(`${at}/type`, 'a bit reads as type boolean');
    else add(`${at}/type`, `dataType ${m.dataType} reads as type number`);
  }
  if (m.dataType === 'string' && p.type !== 'string') add(`${at}/type`, 'dataType string reads as type string');
  if ((p.access === 'readwrite' || p.access === 'write') && (m.table === 'discrete_input' || m.table === 'input_register')) {
    add(`${at}/access`, `${m.table} is read-only in Modbus`);
  }
}
