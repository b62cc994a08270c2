// The library rule files the cloud may hand an edge, compiled once, and the check of per-device rule
// overrides against the rules the edge will run — the same check the edge makes on its config, done
// here first so a bad threshold is a 400 for the technician rather than a rejected configuration.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { GsError, isGsError, type ErrorDetail } from '../../contracts/errors.js';
import type { ProfileLibrary } from '../../device-profiles/library.js';
import { loadRuleFile } from '../../rules/compile.js';
import { listLibraryRuleFiles, RULES_LIBRARY_DIR } from '../../rules/library.js';
import { validateOverrides } from '../../rules/overrides.js';
import type { RuleSet } from '../../rules/types.js';

/** A device as the override check sees it. */
export interface OverrideSubject {
  id: string;
  profile: string;
  site?: string | null;
  overrides?: Record<string, Record<string, unknown>> | null;
}

export class RuleCatalog {
  private readonly cache = new Map<string, RuleSet>();

  /** Library rule file names (e.g. water-level.yaml). */
  names(): string[] {
    return listLibraryRuleFiles().map((p) => p.slice(RULES_LIBRARY_DIR.length + 1));
  }

  /** The compiled library file `name` (bare, e.g. fire.yaml); throws GS_ERR_RULE_INVALID when there is none. */
  load(name: string): RuleSet {
    const hit = this.cache.get(name);
    if (hit) return hit;
    const file = join(RULES_LIBRARY_DIR, name);
    if (!/^[A-Za-z0-9._-]+$/.test(name) || !existsSync(file)) {
      throw new GsError('GS_ERR_RULE_INVALID', `rule file "${name}" is not in the rules library`, [{ path: '', message: `known: ${this.names().join(', ')}` }]);
    }
    const set = loadRuleFile(file);
    this.cache.set(name, set);
    return set;
  }

  /** Problems of a list of rule file names, with paths /rules/<i>. */
  ruleListProblems(names: readonly string[]): ErrorDetail[] {
    const out: ErrorDetail[] = [];
    const seen = new Set<string>();
    names.forEach((n, i) => {
      if (seen.has(n)) out.push({ path: `/rules/${i}`, message: `"${n}" is listed twice` });
      seen.add(n);
      try {
        this.load(n);
      } catch (err) {
        if (!isGsError(err)) throw err;
        out.push({ path: `/rules/${i}`, message: `${err.message} (${err.details.map((d) => d.message).join('; ')})` });
      }
    });
    return out;
  }

  /**
   * The rule sets an edge runs: its rule list plus the default rules of every profile in use, as the
   * edge assembles them. Files that fail to load are skipped here (the edge would report them).
   */
  setsFor(ruleNames: readonly string[], profileIds: Iterable<string>, profiles: ProfileLibrary): RuleSet[] {
    const names = new Set(ruleNames);
    for (const id of profileIds) {
      if (!profiles.has(id)) continue;
      for (const r of profiles.get(id).defaultRules ?? []) names.add(r.replace(/^.*[\\/]/, ''));
    }
    const sets: RuleSet[] = [];
    for (const n of names) {
      try {
        sets.push(this.load(n));
      } catch {
        // reported where the list is checked
      }
    }
    return sets;
  }

  /** Problems of a device's overrides against `sets`; paths /overrides/<rule id>/…; [] when fine. */
  overrideProblems(sets: RuleSet[], device: OverrideSubject, profiles: ProfileLibrary): ErrorDetail[] {
    if (!device.overrides || Object.keys(device.overrides).length === 0 || !profiles.has(device.profile)) return [];
    try {
      validateOverrides(sets, {
        id: device.id,
        profile: device.profile,
        kind: profiles.get(device.profile).kind,
        ...(device.site ? { site: device.site } : {}),
        overrides: device.overrides,
      });
      return [];
    } catch (err) {
      if (!isGsError(err)) throw err;
      return err.details.map((d) => ({ path: d.path, message: d.message }));
    }
  }
}
