import { statSync } from 'node:fs';
import { isGsError } from '../../contracts/errors.js';
import { listProfileFiles } from '../../device-profiles/library.js';
import { readProfileFile } from '../../device-profiles/validate.js';

/** `gridsense profiles validate <files|dirs…>`: every problem of every file, each with its path. */
export function validateProfiles(targets: string[], out: (line: string) => void): number {
  const files = targets.flatMap((t) => {
    try {
      return statSync(t).isDirectory() ? listProfileFiles(t) : [t];
    } catch {
      return [t]; // let readProfileFile report the unreadable path
    }
  });
  const ids = new Map<string, string>();
  let bad = 0;
  for (const file of files) {
    try {
      const p = readProfileFile(file);
      const prior = ids.get(p.id);
      if (prior) {
        bad++;
        out(`✗ ${file}\n  /id: profile id "${p.id}" is also defined in ${prior}`);
        continue;
      }
      ids.set(p.id, file);
      out(`✓ ${file} (${p.id}, ${p.points.length} points)`);
    } catch (err) {
      if (!isGsError(err)) throw err;
      bad++;
      out(`✗ ${file} [${err.code}]`);
      for (const d of err.details) out(`  ${d.path || '/'}: ${d.message}`);
    }
  }
  out(`${files.length - bad} valid, ${bad} invalid`);
  return bad === 0 ? 0 : 1;
}
