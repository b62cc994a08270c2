// The runner of every condition kind that watches one point of one device (threshold, value, rate,
// stale, count): one state per (rule, device). Per reading, and per tick, it first applies whatever
// fell due by time alone (stamped with the time it fell due), then judges the reading; the lifecycle,
// `during:` gating and escalation are the same for every kind.
import type { Reading, ReadingValue } from '../contracts/reading.js';
import type { CondState, HoldParams, Judgement, PointKind } from './conditions/kind.js';
import { deepEqual } from './json.js';
import { escalate, escalationDue, isTime, readLifecycle, step, type LifecycleState, type Transition } from './lifecycle.js';
import { matches } from './match.js';
import { leadOf, makeAlarm, MAX_DUE_STEPS, resolveCommon, type Common } from './rule-common.js';
import type { RuleSpec } from './schema.js';
import type { CompiledRule, EvalResult, RuleAlarm, RuleDevice, RuleState } from './types.js';

interface Setup<P> extends Common {
  p: P;
}

/** The state being worked on; written back as one flat JSON object. */
interface Work {
  life: LifecycleState;
  cond: CondState;
  /** Last good value judged, kept by a level condition (threshold, value) with a `during:` window. */
  last?: { v: ReadingValue; t: number; u?: string };
}

type Due = { at: number; what: 'raise' | 'clear' | 'escalate' };

export class PointRule<Spec, P extends HoldParams> implements CompiledRule {
  readonly scope = 'device';
  readonly id: string;
  readonly description?: string;
  private readonly point: string;
  private readonly base: Setup<P>;
  /** Parsed states by the state object they were read from or written to. */
  private readonly parsed = new WeakMap<RuleState, Work>();
  /** Resolved settings per override object (the edge keeps one per device for its whole run). */
  private readonly perOverride = new WeakMap<object, Setup<P>>();

  constructor(
    readonly spec: RuleSpec,
    private readonly kind: PointKind<Spec, P>,
    private readonly condition: Spec,
    readonly file: string,
  ) {
    this.id = spec.id;
    if (spec.description !== undefined) this.description = spec.description;
    this.point = spec.point as string;
    this.base = { ...resolveCommon(spec, undefined), p: kind.params(condition) };
  }

  appliesTo(device: RuleDevice): boolean {
    return this.spec.match !== undefined && matches(this.spec.match, device);
  }

  evaluate(state: RuleState, reading: Reading, device: RuleDevice, now: number): EvalResult {
    if (reading.deviceId !== device.id || !this.appliesTo(device)) return { state, alarms: [] };
    const setup = this.setupFor(device);
    const w = this.read(state);
    const alarms: RuleAlarm[] = [];
    const moved = this.advance(w, setup, device, now, alarms);
    const judged = this.judge(w, setup, device, reading, now, alarms);
    // Most readings are of other points, or change nothing: no state to write or compare.
    if (!moved && !judged) return { state, alarms };
    return this.finish(state, w, alarms);
  }

  tick(state: RuleState, device: RuleDevice, now: number): EvalResult {
    if (!this.appliesTo(device)) return { state, alarms: [] };
    const setup = this.setupFor(device);
    const w = this.read(state);
    const cond = this.kind.onTick ? this.kind.onTick(w.cond, now) : w.cond;
    const started = cond !== w.cond;
    w.cond = cond;
    const alarms: RuleAlarm[] = [];
    const moved = this.advance(w, setup, device, now, alarms);
    if (!moved && !started) return { state, alarms };
    return this.finish(state, w, alarms);
  }

  nextDue(state: RuleState, device: RuleDevice): number | undefined {
    if (!this.appliesTo(device)) return undefined;
    return this.due(this.read(state), this.setupFor(device))?.at;
  }

  normalizeState(state: RuleState): RuleState {
    return this.write(this.read(state));
  }

  private setupFor(device: RuleDevice): Setup<P> {
    const o = device.overrides?.[this.id];
    if (!o) return this.base;
    let s = this.perOverride.get(o);
    if (!s) {
      const own = Object.fromEntries(Object.entries(o).filter(([k]) => Object.hasOwn(this.kind.overrideProps, k)));
      s = { ...resolveCommon(this.spec, o), p: this.kind.params({ ...this.condition, ...own } as Spec) };
      this.perOverride.set(o, s);
    }
    return s;
  }

  /** The next transition time alone makes, if any. */
  private due(w: Work, s: Setup<P>): Due | undefined {
    if (w.life.active) {
      const clear = this.kind.clearAt?.(w.cond, s.p);
      const esc = escalationDue(w.life, s.escalation);
      // A clear due at the same moment as an escalation makes the escalation moot.
      if (clear !== undefined && (esc === undefined || clear <= esc)) return { at: clear, what: 'clear' };
      return esc === undefined ? undefined : { at: esc, what: 'escalate' };
    }
    if (w.life.since !== undefined) return undefined; // a hold in progress completes on a reading
    let from = this.kind.raiseFrom?.(w.cond, s.p);
    if (from === undefined && w.last && s.schedule && this.kind.verdictOf?.(w.last.v, s.p) === 'raise') from = w.last.t;
    if (from === undefined) return undefined;
    return { at: s.schedule ? s.schedule.firstInside(from) : from, what: 'raise' };
  }

  /** Applies every transition due at or before `now`, in time order; true when there was one. */
  private advance(w: Work, s: Setup<P>, device: RuleDevice, now: number, alarms: RuleAlarm[]): boolean {
    let moved = false;
    for (let i = 0; i < MAX_DUE_STEPS; i++) {
      const d = this.due(w, s);
      if (!d || d.at > now) return moved;
      moved = true;
      if (d.what === 'escalate') {
        const r = escalate(w.life, s.escalation!, d.at);
        w.life = r.state;
        alarms.push(this.alarm(r.transition, { value: null }, s, device));
        continue;
      }
      const r = step(w.life, {
        verdict: d.what, now: d.at, deviceId: device.id, ruleId: this.id, severity: s.severity,
        // Time-made clears (quiet period over) have no streak to wait for; a time-made raise keeps
        // the rule's hold, which then completes on a reading (as every hold does).
        holdMs: s.p.holdMs, holdCount: 1, clearHoldMs: 0, clearHoldCount: 1,
      });
      w.life = r.state;
      if (r.transition) alarms.push(this.alarm(r.transition, this.timeFacts(w, s, d.what, d.at, device), s, device));
      // (A clear due while active always transitions: its clear hold is 0, so this never loops.)
      if (r.transition?.action === 'clear' && this.kind.onClear) w.cond = this.kind.onClear(w.cond);
    }
    return moved;
  }

  private timeFacts(w: Work, s: Setup<P>, what: 'raise' | 'clear', at: number, device: RuleDevice): Omit<Judgement, 'verdict'> {
    if (this.kind.timeJudgement) return this.kind.timeJudgement(w.cond, s.p, what, at);
    if (w.last) {
      // A window opened on a value that was already over the line: judge the last value again.
      const again: Reading = { deviceId: device.id, point: this.point, value: w.last.v, quality: 'good', ts: at, ...(w.last.u !== undefined ? { unit: w.last.u } : {}) };
      const j = this.kind.onReading({}, again, this.point, s.p, at).judgement;
      if (j) return j;
    }
    return { value: null };
  }

  /** Judges the reading; false when it changed nothing at all (another point, a bad reading…). */
  private judge(w: Work, s: Setup<P>, device: RuleDevice, reading: Reading, now: number, alarms: RuleAlarm[]): boolean {
    const r = this.kind.onReading(w.cond, reading, this.point, s.p, now);
    const changed = r.state !== w.cond;
    w.cond = r.state;
    const j = r.judgement;
    if (!j) return changed;
    if (s.schedule && this.kind.verdictOf) w.last = { v: reading.value, t: now, ...(reading.unit !== undefined ? { u: reading.unit } : {}) };
    let verdict = j.verdict;
    if (s.schedule) {
      const open = s.schedule.openOf(now);
      // Outside the window nothing raises (a hold does not even start); an alarm raised inside it
      // still clears by its own condition, whenever that comes.
      if (open === undefined && verdict === 'raise') verdict = 'between';
      // A hold begun in an earlier window does not carry over into this one.
      if (open !== undefined && !w.life.active && w.life.since !== undefined && w.life.since < open) w.life = {};
    }
    const p = s.p;
    const res = step(w.life, {
      verdict, now, deviceId: device.id, ruleId: this.id, severity: s.severity,
      holdMs: p.holdMs, clearHoldMs: p.clearHoldMs, holdCount: p.holdCount, clearHoldCount: p.clearHoldCount,
    });
    w.life = res.state;
    if (res.transition) {
      alarms.push(this.alarm(res.transition, j, s, device));
      if (res.transition.action === 'clear' && this.kind.onClear) w.cond = this.kind.onClear(w.cond);
    }
    return true;
  }

  private alarm(tr: Transition, j: Omit<Judgement, 'verdict'>, s: Setup<P>, device: RuleDevice): RuleAlarm {
    const threshold = tr.action === 'raise' ? j.raiseLine : tr.action === 'clear' ? j.clearLine : undefined;
    return makeAlarm(
      this.spec,
      tr,
      {
        deviceId: device.id, point: this.point, value: j.value,
        ...(device.site !== undefined ? { site: device.site } : {}),
        ...(j.unit !== undefined ? { unit: j.unit } : {}),
        ...(threshold !== undefined ? { threshold } : {}),
        ...(j.vars ? { vars: j.vars } : {}),
      },
      this.kind.messages(s.p, leadOf(this.spec)),
      s,
    );
  }

  /**
   * The state as a Work. A state this rule wrote itself is not parsed again: the engine hands the
   * same object back on the next reading (states are never changed in place, only replaced).
   */
  private read(state: RuleState): Work {
    const known = this.parsed.get(state);
    if (known) return { ...known };
    const w = this.parse(state);
    this.parsed.set(state, w);
    return { ...w };
  }

  private parse(state: RuleState): Work {
    const w: Work = { life: readLifecycle(state), cond: this.kind.read(state) };
    const v = state.lv;
    if (isTime(state.lt) && (typeof v === 'boolean' || typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v)))) {
      w.last = { v, t: state.lt, ...(typeof state.lu === 'string' ? { u: state.lu } : {}) };
    }
    return w;
  }

  /** One flat JSON object: the kind's fields, the last value (lv, lt, lu), the lifecycle's. No undefined values. */
  private write(w: Work): RuleState {
    const out: RuleState = {};
    for (const k in w.cond) if (w.cond[k] !== undefined) out[k] = w.cond[k];
    if (w.last) {
      out.lv = w.last.v;
      out.lt = w.last.t;
      if (w.last.u !== undefined) out.lu = w.last.u;
    }
    const { since, n, active } = w.life;
    if (since !== undefined) out.since = since;
    if (n !== undefined) out.n = n;
    if (active !== undefined) out.active = active;
    return out;
  }

  /** The same state object back when nothing changed, so callers can tell with `===`. */
  private finish(before: RuleState, w: Work, alarms: RuleAlarm[]): EvalResult {
    const after = this.write(w);
    if (alarms.length === 0 && deepEqual(after, before)) return { state: before, alarms };
    this.parsed.set(after, { ...w });
    return { state: after, alarms };
  }
}
