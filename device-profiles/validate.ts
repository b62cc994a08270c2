import { readFileSync } from 'node:fs';
import { DeviceProfile, type ProfilePoint } from '../contracts/profile.js';
import { schemaErrors } from '../contracts/validate.js';
import { isKnownUnit } from '../contracts/units.js';
import { GsError, type ErrorDetail } from '../contracts/errors.js';
import { checkPointValue, PROTOCOL_CHECKS } from './checks/index.js';
import { parseYamlWithLines, withLine, YamlSyntaxError, type ParsedYaml } from '../contracts/yaml.js';

/**
 * Checks the schema cannot express: unique names, known units, sane ranges, values a point's type and
 * wire data type allow, and each protocol's own, per point and over the layout of all points (checks/).
 */
export function semanticErrors(profile: DeviceProfile, file?: string): ErrorDetail[] {
  const out: ErrorDetail[] = [];
  const add = (path: string, message: string) => out.push(file ? { path, message, file } : { path, message });
  const checks = PROTOCOL_CHECKS[profile.protocol];
  const names = new Set<string>();
  profile.points.forEach((p: ProfilePoint, i: number) => {
    const at = `/points/${i}`;
    if (names.has(p.name)) add(`${at}/name`, `duplicate point name "${p.name}"`);
    names.add(p.name);
    if (p.unit !== undefined && !isKnownUnit(p.unit)) add(`${at}/unit`, `unknown unit "${p.unit}" (see contracts/units.ts)`);
    if (p.range && !(p.range.min < p.range.max)) add(`${at}/range`, `min (${p.range.min}) must be below max (${p.range.max})`);
    if (p.scale === 0) add(`${at}/scale`, 'scale must not be 0');
    checkPointValue(p, at, add);
    checks.point(p, at, add);
  });
  checks.layout(profile.points, add);
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
