// The runner of `all:` rules: one state per (rule, site), fed by every device of the site that one
// of its members takes. See conditions/all.ts for the semantics.
import type { Reading, ReadingValue } from '../contracts/reading.js';
import { durationMs } from '../contracts/duration.js';
import { allProblems, describeMembers, memberMatches, memberTest, type AllOverride, type AllSpec } from './conditions/all.js';
import type { ValueTest } from './conditions/value-test.js';
import { testVerdict } from './conditions/value-test.js';
import { deepEqual, isPlainObject } from './json.js';
import { escalate, escalationDue, isTime, readLifecycle, step, type LifecycleState, type Transition, type Verdict } from './lifecycle.js';
import { compact, leadOf, makeAlarm, MAX_DUE_STEPS, resolveCommon, type Common } from './rule-common.js';
import type { RuleSpec } from './schema.js';
import type { CompiledRule, EvalResult, RuleAlarm, RuleDevice, RuleState } from './types.js';

/** The latest good value of one member point of one device: when, what, what it said, the device's kind. */
interface Entry {
  t: number;
  v: ReadingValue;
  j: Verdict;
  k: string;
}

interface Work {
  life: LifecycleState;
  /** Per member (by position in `of`): entries by device id. */
  m: Array<Record<string, Entry>>;
  /** The device and point the active alarm is on. */
  on?: { d: string; p: string };
}

const VERDICTS: readonly Verdict[] = ['raise', 'clear', 'between'];

export class SiteRule implements CompiledRule {
  readonly scope = 'site';
  readonly id: string;
  readonly description?: string;
  private readonly common: Common;
  private readonly withinMs?: number;
  private readonly templates: { raise: string; clear: string };

  constructor(
    readonly spec: RuleSpec,
    private readonly all: AllSpec,
    readonly file: string,
  ) {
    this.id = spec.id;
    if (spec.description !== undefined) this.description = spec.description;
    this.common = resolveCommon(spec, undefined);
    if (all.within !== undefined) this.withinMs = durationMs(all.within);
    const lead = leadOf(spec);
    const members = describeMembers(all);
    this.templates = {
      raise: `${lead}all of ${members} at site {site}; raised on {device} ({point} {value} {unit})`,
      clear: `${lead}cleared at site {site}: no longer all of ${members}`,
    };
    if (allProblems(all).length > 0) throw new Error(`rule ${spec.id}: all: not checked (check.ts should have rejected it)`);
  }

  appliesTo(device: RuleDevice): boolean {
    return device.site !== undefined && this.all.of.some((m) => memberMatches(m, device));
  }

  evaluate(state: RuleState, reading: Reading, device: RuleDevice, now: number): EvalResult {
    if (reading.deviceId !== device.id || !this.appliesTo(device)) return { state, alarms: [] };
    const w = this.read(state);
    const alarms: RuleAlarm[] = [];
    this.advance(w, device, now, alarms);
    this.judge(w, device, reading, now, alarms);
    return this.finish(state, w, alarms);
  }

  tick(state: RuleState, device: RuleDevice, now: number): EvalResult {
    if (!this.appliesTo(device)) return { state, alarms: [] };
    const w = this.read(state);
    const alarms: RuleAlarm[] = [];
    this.advance(w, device, now, alarms);
    return this.finish(state, w, alarms);
  }

  nextDue(state: RuleState, device: RuleDevice): number | undefined {
    return this.appliesTo(device) ? this.due(this.read(state))?.at : undefined;
  }

  normalizeState(state: RuleState): RuleState {
    return this.write(this.read(state));
  }

  /** The test of member `i` as `device` runs it (its override of the member's point laid over). */
  private testFor(i: number, device: RuleDevice): ValueTest {
    const m = this.all.of[i]!;
    const o = (device.overrides?.[this.id] as AllOverride | undefined)?.points?.[m.point];
    return o ? { ...memberTest(m), ...o } : memberTest(m);
  }

  /** Does a member value count at `now`? Not when older than `within`, nor from the future (a clock stepped back). */
  private fresh(e: Entry, now: number): boolean {
    return e.t <= now && (this.withinMs === undefined || now - e.t < this.withinMs);
  }

  /** raise when every member is met; clear when one is plainly not (no fresh value meets or nearly meets it). */
  private verdict(w: Work, now: number): Verdict {
    let all = true;
    for (const entries of w.m) {
      const live = Object.values(entries).filter((e) => this.fresh(e, now));
      if (live.some((e) => e.j === 'raise')) continue;
      all = false;
      if (!live.some((e) => e.j === 'between')) return 'clear';
    }
    return all ? 'raise' : 'between';
  }

  private due(w: Work): { at: number; what: 'clear' | 'escalate' } | undefined {
    if (!w.life.active) return undefined;
    let clear: number | undefined;
    if (this.withinMs !== undefined) {
      // The combination ends when the member whose last meeting value is oldest loses it.
      for (const entries of w.m) {
        const holding = Object.values(entries).filter((e) => e.j !== 'clear');
        if (holding.length === 0) continue;
        const until = Math.max(...holding.map((e) => e.t)) + this.withinMs;
        clear = clear === undefined ? until : Math.min(clear, until);
      }
    }
    const esc = escalationDue(w.life, this.common.escalation);
    if (clear !== undefined && (esc === undefined || clear <= esc)) return { at: clear, what: 'clear' };
    return esc === undefined ? undefined : { at: esc, what: 'escalate' };
  }

  private advance(w: Work, device: RuleDevice, now: number, alarms: RuleAlarm[]): void {
    for (let i = 0; i < MAX_DUE_STEPS; i++) {
      const d = this.due(w);
      if (!d || d.at > now) return;
      if (d.what === 'escalate') {
        const r = escalate(w.life, this.common.escalation!, d.at);
        w.life = r.state;
        alarms.push(this.alarm(r.transition, w, device, d.at));
        continue;
      }
      this.prune(w, d.at);
      // Active, clear verdict, no clear hold: this always transitions, so the loop moves on.
      const r = step(w.life, { verdict: 'clear', now: d.at, holdMs: 0, clearHoldMs: 0, deviceId: device.id, ruleId: this.id, severity: this.common.severity });
      w.life = r.state;
      alarms.push(this.alarm(r.transition!, w, device, d.at));
      delete w.on;
    }
  }

  private judge(w: Work, device: RuleDevice, reading: Reading, now: number, alarms: RuleAlarm[]): void {
    if (reading.quality !== 'good' || reading.value === null) return;
    let took = false;
    this.all.of.forEach((m, i) => {
      if (m.point !== reading.point || !memberMatches(m, device)) return;
      const j = testVerdict(this.testFor(i, device), reading.value);
      if (j === undefined) return;
      w.m[i] = { ...w.m[i], [device.id]: { t: now, v: reading.value, j, k: device.kind } };
      took = true;
    });
    if (!took) return;
    this.prune(w, now);
    let verdict = this.verdict(w, now);
    if (verdict === 'raise' && this.common.schedule && !this.common.schedule.contains(now)) verdict = 'between';
    // While active, `on` is where the alarm is (read() guarantees it); else where a raise would go.
    const on = w.life.active ? w.on! : this.raiseOn(w, device, reading, now);
    const r = step(w.life, { verdict, now, holdMs: 0, clearHoldMs: 0, deviceId: on.d, ruleId: this.id, severity: this.common.severity });
    w.life = r.state;
    if (!r.transition) return;
    w.on = on;
    alarms.push(this.alarm(r.transition, w, device, now, reading));
    if (r.transition.action === 'clear') delete w.on;
  }

  /** Which device and point a raise goes on. */
  private raiseOn(w: Work, device: RuleDevice, reading: Reading, now: number): { d: string; p: string } {
    const kind = this.all.raiseOn;
    if (kind !== undefined) {
      let best: { d: string; p: string; t: number } | undefined;
      this.all.of.forEach((m, i) => {
        for (const [d, e] of Object.entries(w.m[i]!)) {
          if (e.k !== kind || e.j !== 'raise' || !this.fresh(e, now)) continue;
          if (!best || e.t > best.t || (e.t === best.t && d < best.d)) best = { d, p: m.point, t: e.t };
        }
      });
      if (best) return { d: best.d, p: best.p };
    }
    return { d: device.id, p: reading.point };
  }

  private alarm(tr: Transition, w: Work, device: RuleDevice, at: number, reading?: Reading): RuleAlarm {
    const on = w.on!; // set before any transition is made into an alarm
    // The value of the alarm's own device and point, when the site has a fresh one.
    let value: ReadingValue = null;
    let unit: string | undefined;
    if (reading && reading.deviceId === on.d && reading.point === on.p) {
      value = reading.value;
      unit = reading.unit;
    } else {
      this.all.of.forEach((m, i) => {
        const e = w.m[i]?.[on.d];
        if (m.point === on.p && e && this.fresh(e, at)) value = e.v;
      });
    }
    if (tr.action === 'update') value = null;
    return makeAlarm(this.spec, tr, { deviceId: on.d, point: on.p, value, ...(unit !== undefined ? { unit } : {}), ...(device.site !== undefined ? { site: device.site } : {}) }, this.templates, this.common);
  }

  /** Drops member values that no longer count. */
  private prune(w: Work, now: number): void {
    w.m = w.m.map((entries) => {
      const kept = Object.entries(entries).filter(([, e]) => this.fresh(e, now));
      return kept.length === Object.keys(entries).length ? entries : Object.fromEntries(kept);
    });
  }

  private read(state: RuleState): Work {
    const w: Work = { life: readLifecycle(state), m: this.all.of.map(() => ({})) };
    if (Array.isArray(state.m) && state.m.length === this.all.of.length) {
      w.m = state.m.map((entries) => {
        if (!isPlainObject(entries)) return {};
        return Object.fromEntries(Object.entries(entries).filter(([, e]) => isEntry(e))) as Record<string, Entry>;
      });
    }
    const on = state.on;
    if (w.life.active && isPlainObject(on) && typeof on.d === 'string' && typeof on.p === 'string') w.on = { d: on.d, p: on.p };
    // An active alarm without its device cannot be cleared where it was raised: start afresh.
    if (w.life.active && !w.on) delete w.life.active;
    return w;
  }

  private write(w: Work): RuleState {
    const any = w.m.some((e) => Object.keys(e).length > 0);
    return compact({ m: any ? w.m : undefined, on: w.on, since: w.life.since, n: w.life.n, active: w.life.active });
  }

  private finish(before: RuleState, w: Work, alarms: RuleAlarm[]): EvalResult {
    const after = this.write(w);
    return { state: alarms.length === 0 && deepEqual(after, before) ? before : after, alarms };
  }
}

function isEntry(e: unknown): e is Entry {
  if (!isPlainObject(e)) return false;
  const v = e.v;
  return isTime(e.t) && VERDICTS.includes(e.j as Verdict) && typeof e.k === 'string' && (typeof v === 'boolean' || typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v)));
}
