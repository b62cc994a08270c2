// The `gridsense rule` node's engine: a rule file (YAML, the rule language of rules/) run by the same
// pure evaluator the edge runs, over the readings the flow hands it. Its transitions come out as
// messages with `msg.alarm` set, so a `gridsense alarm` node (or anything else) takes them on. State
// (holds under way, alarms raised) is saved in the edge's state database, so a restart neither forgets
// a raised alarm nor raises it twice.
import type { Reading } from '../../contracts/reading.js';
import { parseRuleFile } from '../../rules/compile.js';
import { RuleEngine } from '../../rules/engine.js';
import type { RuleAlarm, RuleDevice } from '../../rules/types.js';
import type { FlowAlarmFields } from './flow-alarm.js';

export interface FlowRuleHost {
  now(): number;
  /** The rule's saved state document, if any. */
  load(): string | undefined;
  save(json: string): void;
  /** Timers, injected so tests and the edge's scheduler drive them. */
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** A message the rule node sends per transition. */
export interface RuleOutput {
  topic: string;
  payload: Reading['value'];
  alarm: Required<Pick<FlowAlarmFields, 'action' | 'type' | 'severity' | 'deviceId' | 'point' | 'message'>> & Pick<FlowAlarmFields, 'value' | 'unit' | 'threshold'>;
  /** The rule's own id and the alarm id it derived (informational: the alarm node keeps its own identity). */
  rule: { id: string; alarmId: string; seq: number };
}

export class FlowRule {
  private readonly engine: RuleEngine;
  private readonly devices = new Map<string, RuleDevice>();
  private saved?: string;
  private timer?: { at: number; handle: unknown };
  private closed = false;

  /** Throws GS_ERR_RULE_INVALID (with file "node-red:<label>", pointer and line) when the YAML is not a valid rule file. */
  constructor(yaml: string, label: string, private readonly host: FlowRuleHost, private readonly emit: (out: RuleOutput[]) => void) {
    this.engine = new RuleEngine([parseRuleFile(yaml, `node-red:${label}`)]);
    const saved = host.load();
    if (saved !== undefined) {
      try {
        this.engine.importState(JSON.parse(saved));
        this.saved = saved;
      } catch {
        // An unreadable save (rules edited since) starts the rule afresh; the state is advisory.
      }
    }
  }

  get ruleIds(): string[] {
    return this.engine.ruleSets.flatMap((s) => s.rules.map((r) => r.id));
  }

  /** The transitions one reading causes (also sent through `emit`). */
  process(reading: Reading, device: RuleDevice): RuleOutput[] {
    if (this.closed) return [];
    this.devices.set(device.id, device);
    const out = this.engine.process(reading, device, this.host.now()).map(toOutput);
    this.after(out);
    return out;
  }

  close(): void {
    this.closed = true;
    if (this.timer) this.host.clearTimeout(this.timer.handle);
    this.timer = undefined;
  }

  private tick(): void {
    this.timer = undefined;
    if (this.closed) return;
    const now = this.host.now();
    const alarms: RuleAlarm[] = [];
    for (const d of this.devices.values()) alarms.push(...this.engine.tick(d, now));
    this.after(alarms.map(toOutput));
  }

  /** Saves a changed state, sends the transitions, and arms the timer for what time alone will cause. */
  private after(out: RuleOutput[]): void {
    const json = JSON.stringify(this.engine.exportState());
    if (json !== this.saved) {
      this.host.save(json);
      this.saved = json;
    }
    if (out.length > 0) this.emit(out);
    let at: number | undefined;
    for (const d of this.devices.values()) {
      const due = this.engine.nextDue(d);
      if (due !== undefined && (at === undefined || due < at)) at = due;
    }
    if (this.timer?.at === at) return;
    if (this.timer) this.host.clearTimeout(this.timer.handle);
    this.timer = undefined;
    if (at !== undefined) this.timer = { at, handle: this.host.setTimeout(() => this.tick(), Math.max(0, at - this.host.now())) };
  }
}

function toOutput(a: RuleAlarm): RuleOutput {
  return {
    topic: `${a.deviceId}/${a.point}`,
    payload: a.value,
    alarm: {
      action: a.action,
      type: a.type,
      severity: a.severity,
      deviceId: a.deviceId,
      point: a.point,
      message: a.message.slice(0, 1024),
      value: typeof a.value === 'string' ? a.value.slice(0, 256) : a.value,
      ...(a.unit !== undefined ? { unit: a.unit } : {}),
      ...(a.threshold !== undefined ? { threshold: a.threshold } : {}),
    },
    rule: { id: a.ruleId, alarmId: a.alarmId, seq: a.seq },
  };
}
