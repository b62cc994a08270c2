// Runs every applicable rule over a reading and keeps each (rule, device) state in memory. Shared by
// the edge (live) and the backtest (history); persistence is the caller's: exportState/importState.
import { GsError, type ErrorDetail } from '../contracts/errors.js';
import type { Reading } from '../contracts/reading.js';
import type { CompiledRule, RuleAlarm, RuleDevice, RuleSet, RuleState } from './types.js';

/** Rule ids are kebab-case, so `|` cannot appear in one and the key splits unambiguously. */
export const stateKey = (ruleId: string, deviceId: string): string => `${ruleId}|${deviceId}`;

export class RuleEngine {
  private readonly rules: CompiledRule[] = [];
  private readonly states = new Map<string, RuleState>();

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
        }
      });
    }
    if (details.length > 0) throw new GsError('GS_ERR_RULE_INVALID', 'rule ids must be unique across rule files', details);
  }

  rulesFor(device: RuleDevice): CompiledRule[] {
    return this.rules.filter((r) => r.appliesTo(device));
  }

  /** Every alarm transition this reading causes, in rule order. */
  process(reading: Reading, device: RuleDevice, now: number): RuleAlarm[] {
    if (reading.deviceId !== device.id) return [];
    const alarms: RuleAlarm[] = [];
    for (const rule of this.rules) {
      if (!rule.appliesTo(device)) continue;
      const key = stateKey(rule.id, device.id);
      const before = this.states.get(key) ?? {};
      const { state, alarms: emitted } = rule.evaluate(before, reading, device, now);
      if (state !== before) this.setStateByKey(key, state);
      alarms.push(...emitted);
    }
    return alarms;
  }

  /** The live state; read it, do not change it (setState replaces it). */
  getState(ruleId: string, deviceId: string): Readonly<RuleState> | undefined {
    return this.states.get(stateKey(ruleId, deviceId));
  }

  setState(ruleId: string, deviceId: string, state: RuleState): void {
    this.setStateByKey(stateKey(ruleId, deviceId), state);
  }

  /**
   * A JSON-ready snapshot. Entries of rules no longer loaded are kept, not dropped: a rule removed
   * and put back should still clear the alarm it had raised.
   */
  exportState(): Record<string, RuleState> {
    return Object.fromEntries([...this.states].map(([k, v]) => [k, structuredClone(v)]));
  }

  /** Replaces all state with a snapshot from exportState (typically JSON.parse of a saved file). */
  importState(saved: unknown): void {
    if (saved === null || typeof saved !== 'object' || Array.isArray(saved)) {
      throw new GsError('GS_ERR_RULE_INVALID', 'saved rule state is not valid', [{ path: '', message: 'must be an object keyed by "<rule id>|<device id>"' }]);
    }
    const details: ErrorDetail[] = [];
    for (const [key, value] of Object.entries(saved)) {
      const pointer = `/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`;
      if (!/^[^|]+\|.+$/.test(key)) details.push({ path: pointer, message: 'key must be "<rule id>|<device id>"' });
      else if (value === null || typeof value !== 'object' || Array.isArray(value)) details.push({ path: pointer, message: 'must be an object' });
    }
    if (details.length > 0) throw new GsError('GS_ERR_RULE_INVALID', 'saved rule state is not valid', details);
    this.states.clear();
    for (const [key, value] of Object.entries(saved as Record<string, RuleState>)) this.setStateByKey(key, structuredClone(value));
  }

  private setStateByKey(key: string, state: RuleState): void {
    // An empty state is the same as none; dropping it keeps the map (and the saved file) small.
    if (Object.keys(state).length === 0) this.states.delete(key);
    else this.states.set(key, state);
  }
}
