// Runs every applicable rule over a reading (process) or over time passing (tick), and keeps each
// rule's state in memory: per (rule, device), or per (rule, site) for `all:` rules. Shared by the edge
// (live) and the backtest (history); persistence is the caller's: exportState/importState for a whole
// snapshot, takeChanges for what changed since the last take (the edge writes only those rows).
import { GsError, type ErrorDetail } from '../contracts/errors.js';
import type { Reading } from '../contracts/reading.js';
import { actionIntents, type ActionIntent } from './actions.js';
import { ruleSpecOf } from './evaluate.js';
import { deepEqual } from './json.js';
import type { CompiledRule, RuleAlarm, RuleDevice, RuleSet, RuleState } from './types.js';

/** Rule ids are kebab-case, so `|` cannot appear in one and the key splits unambiguously. */
export const stateKey = (ruleId: string, deviceId: string): string => `${ruleId}|${deviceId}`;
/** The state of an `all:` rule at a site. Device ids cannot start with `@`, so the two never meet. */
export const siteStateKey = (ruleId: string, site: string): string => `${ruleId}|@${site}`;

/** The state of a rule that has none yet: one shared object, so rules can cache what they read from it. */
const NO_STATE: RuleState = Object.freeze({}) as RuleState;

/**
 * The state entries changed since the last takeChanges. `all`: everything was replaced (importState),
 * so `set` holds every entry and whatever else a store kept is stale — rewrite, do not patch.
 */
export interface StateChanges {
  all: boolean;
  /** Live entries, not copies: serialise them before the engine runs again. */
  set: Map<string, RuleState>;
  deleted: string[];
}

/** What importState did not take as it was. */
export interface StateImportReport {
  /** Entries of loaded rules in which some fields could not be read and were dropped, with why. */
  dropped: Array<{ key: string; reason: string }>;
}

export class RuleEngine {
  private readonly rules: CompiledRule[] = [];
  private readonly byId = new Map<string, CompiledRule>();
  private readonly states = new Map<string, RuleState>();
  /** The rules that apply to a device, by device object (the edge keeps one per device). */
  private readonly applicable = new WeakMap<RuleDevice, CompiledRule[]>();
  /** Keys set or deleted since the last takeChanges; `replaced`: importState ran since. */
  private readonly dirty = new Set<string>();
  private replaced = false;

  /** Throws GS_ERR_RULE_INVALID when two sets define the same rule id: state and overrides key on it. */
  constructor(readonly ruleSets: RuleSet[]) {
    const seen = new Map<string, string>();
    const details: ErrorDetail[] = [];
    for (const set of ruleSets) {
      set.rules.forEach((rule, i) => {
        const prior = seen.get(rule.id);
        if (prior !== undefined) {
          details.push({ file: set.file, path: `/rules/${i}/id`, message: `rule id "${rule.id}" is also defined in ${prior}` });
        } else {
          seen.set(rule.id, set.file);
          this.rules.push(rule);
          this.byId.set(rule.id, rule);
        }
      });
    }
    if (details.length > 0) throw new GsError('GS_ERR_RULE_INVALID', 'rule ids must be unique across rule files', details);
  }

  /** The rules that apply to the device. Cached per device object: change a device by replacing it. */
  rulesFor(device: RuleDevice): CompiledRule[] {
    let rules = this.applicable.get(device);
    if (!rules) this.applicable.set(device, (rules = this.rules.filter((r) => r.appliesTo(device))));
    return rules;
  }

  /** Every alarm transition this reading causes, in rule order (what fell due before it included). */
  process(reading: Reading, device: RuleDevice, now: number): RuleAlarm[] {
    if (reading.deviceId !== device.id) return [];
    return this.run(device, (rule, state) => rule.evaluate(state, reading, device, now));
  }

  /**
   * Time passing for one device: every transition of its rules (and of the `all:` rules of its site)
   * that fell due at or before `now`, stamped with the time it fell due. Call it for every device
   * once at start (it starts the watch of `stale:` rules) and then on a timer — at nextDue(), or
   * every few seconds; how late or how often only changes when an alarm is sent, not the alarm.
   * A backtest calls it between readings in the same way, or not at all: process() applies what is
   * due before each reading anyway, so only a transition after the last reading needs a tick.
   */
  tick(device: RuleDevice, now: number): RuleAlarm[] {
    return this.run(device, (rule, state) => rule.tick(state, device, now));
  }

  /**
   * Pure: what the edge must do because of these transitions (their rules' `actions`), in alarm order.
   * The engine never acts itself: the caller carries the intents out after the alarms are stored.
   */
  intents(alarms: readonly RuleAlarm[]): ActionIntent[] {
    const out: ActionIntent[] = [];
    for (const a of alarms) {
      const rule = this.byId.get(a.ruleId);
      if (rule) out.push(...actionIntents(ruleSpecOf(rule)?.actions, a));
    }
    return out;
  }

  /** The earliest time a tick for this device would change something, or undefined. */
  nextDue(device: RuleDevice): number | undefined {
    let next: number | undefined;
    for (const rule of this.rulesFor(device)) {
      const key = this.keyOf(rule, device);
      const state = key === undefined ? undefined : this.states.get(key);
      if (!state) continue;
      const at = rule.nextDue(state, device);
      if (at !== undefined && (next === undefined || at < next)) next = at;
    }
    return next;
  }

  /**
   * What changed since the last call (or since construction), and forget it: the caller persists
   * exactly these entries. Costs O(changed), not O(all state), unless importState ran in between.
   */
  takeChanges(): StateChanges {
    const set = new Map<string, RuleState>();
    const deleted: string[] = [];
    const all = this.replaced;
    if (all) {
      for (const [k, v] of this.states) set.set(k, v);
    } else {
      for (const k of this.dirty) {
        const v = this.states.get(k);
        if (v === undefined) deleted.push(k);
        else set.set(k, v);
      }
    }
    this.dirty.clear();
    this.replaced = false;
    return { all, set, deleted };
  }

  /** The live state; read it, do not change it (setState replaces it). */
  getState(ruleId: string, deviceId: string): Readonly<RuleState> | undefined {
    return this.states.get(stateKey(ruleId, deviceId));
  }

  setState(ruleId: string, deviceId: string, state: RuleState): void {
    this.setStateByKey(stateKey(ruleId, deviceId), state);
  }

  /** The state of an `all:` rule at a site. */
  getSiteState(ruleId: string, site: string): Readonly<RuleState> | undefined {
    return this.states.get(siteStateKey(ruleId, site));
  }

  /**
   * A JSON-ready snapshot. Entries of rules no longer loaded are kept, not dropped: a rule removed
   * and put back should still clear the alarm it had raised.
   */
  exportState(): Record<string, RuleState> {
    return Object.fromEntries([...this.states].map(([k, v]) => [k, structuredClone(v)]));
  }

  /**
   * Replaces all state with a snapshot from exportState (typically JSON.parse of a saved file). Throws
   * GS_ERR_RULE_INVALID when it is not a snapshot at all (state unchanged). Each entry of a loaded rule
   * is read as that rule reads it: fields it cannot read (written by an older version, or garbled) are
   * dropped and reported, so the caller can log why; the rest of the entry, and every other entry, stays.
   */
  importState(saved: unknown): StateImportReport {
    if (saved === null || typeof saved !== 'object' || Array.isArray(saved)) {
      throw new GsError('GS_ERR_RULE_INVALID', 'saved rule state is not valid', [{ path: '', message: 'must be an object keyed by "<rule id>|<device id>"' }]);
    }
    const details: ErrorDetail[] = [];
    for (const [key, value] of Object.entries(saved)) {
      const pointer = `/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`;
      if (!/^[^|]+\|.+$/.test(key)) details.push({ path: pointer, message: 'key must be "<rule id>|<device id>" or "<rule id>|@<site>"' });
      else if (value === null || typeof value !== 'object' || Array.isArray(value)) details.push({ path: pointer, message: 'must be an object' });
    }
    if (details.length > 0) throw new GsError('GS_ERR_RULE_INVALID', 'saved rule state is not valid', details);
    const report: StateImportReport = { dropped: [] };
    this.states.clear();
    this.replaced = true;
    for (const [key, value] of Object.entries(saved as Record<string, RuleState>)) {
      const rule = this.byId.get(key.slice(0, key.indexOf('|')));
      const scoped = key.includes('|@') ? 'site' : 'device';
      let state = structuredClone(value);
      if (rule && rule.scope === scoped) {
        const read = rule.normalizeState(state);
        const lost = Object.keys(state).filter((k) => !deepEqual(state[k], read[k]));
        if (lost.length > 0) report.dropped.push({ key, reason: `rule "${rule.id}" could not read ${lost.map((k) => `"${k}"`).join(', ')}; dropped` });
        state = read;
      }
      this.setStateByKey(key, state);
    }
    return report;
  }

  private keyOf(rule: CompiledRule, device: RuleDevice): string | undefined {
    if (rule.scope === 'device') return stateKey(rule.id, device.id);
    return device.site === undefined ? undefined : siteStateKey(rule.id, device.site);
  }

  private run(device: RuleDevice, fn: (rule: CompiledRule, state: RuleState) => { state: RuleState; alarms: RuleAlarm[] }): RuleAlarm[] {
    const alarms: RuleAlarm[] = [];
    for (const rule of this.rulesFor(device)) {
      const key = this.keyOf(rule, device);
      if (key === undefined) continue;
      const before = this.states.get(key) ?? NO_STATE;
      const { state, alarms: emitted } = fn(rule, before);
      if (state !== before) this.setStateByKey(key, state);
      alarms.push(...emitted);
    }
    // In time order across rules (a rule's due clear may predate another's raise now); stable, so
    // transitions of the same moment keep rule order, and each alarm's own seq order is kept.
    return alarms.length > 1 ? alarms.sort((a, b) => a.ts - b.ts) : alarms;
  }

  private setStateByKey(key: string, state: RuleState): void {
    // An empty state is the same as none; dropping it keeps the map (and the saved file) small.
    if (Object.keys(state).length === 0) {
      if (this.states.delete(key)) this.dirty.add(key);
    } else {
      this.states.set(key, state);
      this.dirty.add(key);
    }
  }
}
