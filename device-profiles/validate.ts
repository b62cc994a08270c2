import { readFileSync } from 'node:fs';
import { DeviceProfile, type ProfilePoint } from '../contracts/profile.js';
import { schemaErrors } from '../contracts/validate.js';
import { isKnownUnit } from '../contracts/units.js';
import { GsError, type ErrorDetail } from '../contracts/errors.js';
import { parseYamlWithLines, withLine, YamlSyntaxError, type ParsedYaml } from '../contracts/yaml.js';

const REGISTER_WIDTH: Record<string, number> = {
  bool: 1, int16: 1, uint16: 1, int32: 2, uint32: 2, float32: 2, float64: 4,
};

/** Checks the schema cannot express: unique names, known units, sane ranges, consistent Modbus attributes. */
export function semanticErrors(profile: DeviceProfile, file?: string): ErrorDetail[] {
  const out: ErrorDetail[] = [];
  const add = (path: string, message: string) => out.push(file ? { path, message, file } : { path, message });
  const names = new Set<string>();
  profile.points.forEach((p: ProfilePoint, i: number) => {
    const at = `/points/${i}`;
    if (names.has(p.name)) add(`${at}/name`, `duplicate point name "${p.name}"`);
    names.add(p.name);
    if (p.unit !== undefined && !isKnownUnit(p.unit)) add(`${at}/unit`, `unknown unit "${p.unit}" (see contracts/units.ts)`);
    if (p.range && !(p.range.min < p.range.max)) add(`${at}/range`, `min (${p.range.min}) must be below max (${p.range.max})`);
    if (p.scale === 0) add(`${at}/scale`, 'scale must not be 0');
    if (profile.protocol === 'modbus') {
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
  });
  return out;
}

/** Parses and validates one profile document; throws GS_ERR_PROFILE_INVALID with every problem. */
export function parseProfile(text: string, file = '<profile>'): DeviceProfile {
  let parsed: ParsedYaml;
  try {
    parsed = parseYamlWithLines(text);
  } catch (err) {
    if (!(err instanceof YamlSyntaxError)) throw err;
    throw new GsError('GS_ERR_PROFILE_INVALID', `${file}: not valid YAML`, [{ file, path: '', message: err.detail }]);
  }
  const doc = parsed.value;
  const details = schemaErrors(DeviceProfile, doc, file);
  if (details.length === 0) details.push(...semanticErrors(doc as DeviceProfile, file));
  if (details.length > 0) {
    throw new GsError('GS_ERR_PROFILE_INVALID', `${file}: ${details.length} problem(s)`, details.map((d) => withLine(d, parsed)));
  }
  return doc as DeviceProfile;
}

export function readProfileFile(file: string): DeviceProfile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new GsError('GS_ERR_PROFILE_INVALID', `${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? 'error'})`, [
      { file, path: '', message: 'file cannot be read' },
    ]);
  }
  return parseProfile(text, file);
}
