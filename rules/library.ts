// The bundled rule sets (rules/library/*.yaml). Profiles and edge configs name them bare
// ("water-level.yaml"); this file turns such a name into a path.
import { existsSync, readdirSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GsError } from '../contracts/errors.js';

export const RULES_LIBRARY_DIR = fileURLToPath(new URL('./library', import.meta.url));

/** Library rule files, sorted, as absolute paths. */
export function listLibraryRuleFiles(): string[] {
  return readdirSync(RULES_LIBRARY_DIR)
    .filter((n) => /\.ya?ml$/.test(n))
    .sort()
    .map((n) => join(RULES_LIBRARY_DIR, n));
}

/**
 * A path to load. A bare name ("water-level.yaml", or "water-level") is looked up in the library
 * first, then in `base`; anything with a directory part is a path relative to `base` (default: the
 * working directory). A bare name found nowhere throws GS_ERR_RULE_INVALID listing the library.
 */
export function resolveRuleFile(nameOrPath: string, base: string = process.cwd()): string {
  if (isAbsolute(nameOrPath)) return nameOrPath;
  if (/[\\/]/.test(nameOrPath)) return resolve(base, nameOrPath);
  const names = /\.ya?ml$/.test(nameOrPath) ? [nameOrPath] : [`${nameOrPath}.yaml`, `${nameOrPath}.yml`, nameOrPath];
  for (const dir of [RULES_LIBRARY_DIR, base]) {
    for (const name of names) {
      const p = resolve(dir, name);
      if (existsSync(p)) return p;
    }
  }
  const known = listLibraryRuleFiles().map((p) => p.slice(RULES_LIBRARY_DIR.length + 1));
  throw new GsError('GS_ERR_RULE_INVALID', `rule file "${nameOrPath}" not found`, [
    { file: nameOrPath, path: '', message: `not in the rules library (${known.join(', ') || 'empty'}) nor in ${resolve(base)}` },
  ]);
}
