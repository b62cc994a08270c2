// `gridsense rules backtest`: stored history through the same rule engine the edge runs live. Readings
// come from the edge's configured telemetry store (SQLite, InfluxDB 1.x or 2.x) in time order, page by
// page; each goes to RuleEngine.process with its own time as `now`, exactly as the agent does with a
// fresh reading; between readings — and up to `to` — the engine is ticked at every moment a rule falls
// due (stale data, a hold running out, a schedule window), as the agent's rule timer does. Devices are
// built as the agent builds them (profile, kind, place, per-device overrides), so matching and
// parameters are the live ones. Nothing is sent and nothing is stored; the store is never pruned.
import { GsError } from '../contracts/errors.js';
import type { Reading } from '../contracts/reading.js';
import { ProfileLibrary } from '../device-profiles/library.js';
import { loadRuleFile } from '../rules/compile.js';
import { RuleEngine } from '../rules/engine.js';
import type { RuleAlarm, RuleDevice, RuleSet } from '../rules/types.js';
import type { EdgeConfig } from './config.js';
import { ruleDeviceOf } from './rule-device.js';
import type { TelemetryStore } from './telemetry/store.js';

export interface BacktestOptions {
  config: EdgeConfig;
  /** The rule files to try (paths, already resolved). */
  ruleFiles: string[];
  /** Also run the edge's own rule files (its `rules` and its profiles' default rules); a configured file
   * defining a rule id of `ruleFiles` is left out, so an edited copy replaces the original. */
  withEdgeRules?: boolean;
  store: TelemetryStore;
  from: number;
  to: number;
  deviceId?: string;
  /** Readings per store query (default 10,000). */
  pageSize?: number;
}

export interface BacktestResult {
  from: number;
  to: number;
  ruleFiles: string[];
  /** Configured rule files left out because a tried file redefines their rules. */
  replaced: string[];
  readings: number;
  /** Readings of devices that are not in the configuration (not evaluated), by device. */
  unconfigured: Record<string, number>;
  /** Every alarm transition, in time order. */
  transitions: RuleAlarm[];
  /** Alarms raised and not cleared by `to`. */
  active: RuleAlarm[];
}

export async function backtest(o: BacktestOptions): Promise<BacktestResult> {
  if (!(o.from <= o.to)) throw new GsError('GS_ERR_VALIDATION', '--from must not be after --to', [{ path: '--from', message: 'must not be after --to' }]);
  const tried = o.ruleFiles.map((f) => loadRuleFile(f));
  const { sets, replaced } = o.withEdgeRules ? withConfigured(tried, o.config.ruleFiles) : { sets: tried, replaced: [] };
  const engine = new RuleEngine(sets);

  const profiles = ProfileLibrary.load(o.config.profileDirs);
  const devices = new Map<string, RuleDevice>();
  for (const d of o.config.devices) {
    if (o.deviceId === undefined || d.id === o.deviceId) devices.set(d.id, ruleDeviceOf(d, profiles.get(d.profile)));
  }
  if (o.deviceId !== undefined && devices.size === 0) {
    throw new GsError('GS_ERR_DEVICE_UNKNOWN', `device "${o.deviceId}" is not in ${o.config.file}`, [{ path: '--device', message: 'must be a device id of the configuration' }]);
  }
  // A device's rules may combine with others of its place (`all:` rules): with --device, its place
  // mates are evaluated too, and only its alarms are shown.
  const place = o.deviceId !== undefined ? devices.get(o.deviceId)!.site : undefined;
  if (place !== undefined) {
    for (const d of o.config.devices) if (d.place === place && !devices.has(d.id)) devices.set(d.id, ruleDeviceOf(d, profiles.get(d.profile)));
  }

  const transitions: RuleAlarm[] = [];
  const all = [...devices.values()];
  // As the agent at start: every device ticked once, which starts the watch of `stale:` rules.
  for (const d of all) transitions.push(...engine.tick(d, o.from));

  /** Ticks every device whose rules fall due at or before `until`, in time order. */
  const tickUntil = (until: number) => {
    for (let guard = 0; guard < 1_000_000; guard++) {
      let due: number | undefined;
      for (const d of all) {
        const at = engine.nextDue(d);
        if (at !== undefined && (due === undefined || at < due)) due = at;
      }
      if (due === undefined || due > until) return;
      const at = Math.max(due, o.from);
      for (const d of all) {
        const next = engine.nextDue(d);
        if (next !== undefined && next <= at) transitions.push(...engine.tick(d, at));
      }
    }
    throw new Error('rules keep falling due without time passing');
  };

  let readings = 0;
  const unconfigured: Record<string, number> = {};
  for await (const r of history(o.store, o.from, o.to, o.pageSize ?? 10_000, place === undefined ? o.deviceId : undefined)) {
    const d = devices.get(r.deviceId);
    if (!d) {
      if (o.deviceId === undefined) unconfigured[r.deviceId] = (unconfigured[r.deviceId] ?? 0) + 1;
      continue;
    }
    readings++;
    tickUntil(r.ts);
    transitions.push(...engine.process(r, d, r.ts));
  }
  tickUntil(o.to);

  const shown = o.deviceId === undefined ? transitions : transitions.filter((a) => a.deviceId === o.deviceId);
  // Stable: transitions of one moment keep the engine's order.
  shown.sort((a, b) => a.ts - b.ts);
  const open = new Map<string, RuleAlarm>();
  for (const a of shown) {
    if (a.action === 'clear') open.delete(a.alarmId);
    else open.set(a.alarmId, a);
  }
  return { from: o.from, to: o.to, ruleFiles: sets.map((s) => s.file), replaced, readings, unconfigured, transitions: shown, active: [...open.values()] };
}

function withConfigured(tried: RuleSet[], configured: string[]): { sets: RuleSet[]; replaced: string[] } {
  const files = new Set(tried.map((s) => s.file));
  const ids = new Set(tried.flatMap((s) => s.rules.map((r) => r.id)));
  const sets = [...tried];
  const replaced: string[] = [];
  for (const file of configured) {
    if (files.has(file)) continue;
    const set = loadRuleFile(file);
    if (set.rules.some((r) => ids.has(r.id))) replaced.push(file);
    else sets.push(set);
  }
  return { sets, replaced };
}

/**
 * The store's readings in [from, to], earliest first, a page at a time. Pages overlap by the last
 * timestamp (a query's `from` is inclusive): readings at that timestamp already seen are skipped.
 */
async function* history(store: TelemetryStore, from: number, to: number, pageSize: number, deviceId?: string): AsyncGenerator<Reading> {
  let cursor = from;
  let seenAtCursor = 0;
  let size = pageSize;
  for (;;) {
    const page = await store.query({ from: cursor, to, limit: size, ...(deviceId !== undefined ? { deviceId } : {}) });
    const fresh = page.slice(seenAtCursor);
    if (page.length === size && fresh.length === 0) {
      size *= 2; // one timestamp fills the page: take a bigger one
      continue;
    }
    for (const r of fresh) yield r;
    if (page.length < size) return;
    const last = page.at(-1)!.ts;
    seenAtCursor = last === cursor ? page.length : page.filter((r) => r.ts === last).length;
    cursor = last;
  }
}
