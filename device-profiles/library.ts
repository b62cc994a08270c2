import { readdirSync, statSync } from 'node:fs';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DeviceProfile } from '../contracts/profile.js';
import { GsError } from '../contracts/errors.js';
import { readProfileFile } from './validate.js';

/** The folder of bundled profiles (this one). */
export const BUNDLED_PROFILES_DIR = dirname(fileURLToPath(import.meta.url));

/** Every profile YAML below `dir` (fragments in `_fragments/` are not profiles). */
export function listProfileFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) {
        if (!name.startsWith('_') && name !== 'node_modules') walk(p);
      } else if (/\.ya?ml$/.test(name)) out.push(p);
    }
  };
  walk(resolve(dir));
  return out;
}

/** Profiles by id. Loading fails loudly on an invalid file or a duplicate id. */
export class ProfileLibrary {
  private readonly byId = new Map<string, { profile: DeviceProfile; file: string }>();

  static load(dirs: string[] = [BUNDLED_PROFILES_DIR]): ProfileLibrary {
    const lib = new ProfileLibrary();
    for (const dir of dirs) for (const file of listProfileFiles(dir)) lib.add(readProfileFile(file), file);
    return lib;
  }

  add(profile: DeviceProfile, file = '<inline>'): void {
    const prior = this.byId.get(profile.id);
    if (prior) {
      throw new GsError('GS_ERR_PROFILE_INVALID', `profile id "${profile.id}" is defined twice`, [
        { file, path: '/id', message: `already defined in ${prior.file}` },
      ]);
    }
    this.byId.set(profile.id, { profile, file });
  }

  get(id: string): DeviceProfile {
    const hit = this.byId.get(id);
    if (!hit) throw new GsError('GS_ERR_PROFILE_UNKNOWN', `device profile "${id}" is not known`, [{ path: '', message: `known: ${[...this.byId.keys()].join(', ')}` }]);
    return hit.profile;
  }

  has(id: string): boolean {
    return this.byId.has(id);
  }

  all(): DeviceProfile[] {
    return [...this.byId.values()].map((v) => v.profile);
  }
}
