// `gridsense rules backtest` over a SQLite telemetry store filled with a history whose alarms are
// worked out by hand below; and a broken rule file, through the real CLI: a located error, exit ≠ 0.
import t, { type Test } from 'tap';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { systemClock } from '../contracts/clock.js';
import type { Reading } from '../contracts/reading.js';
import { silentLogger } from '../edge/log.js';
import { systemScheduler } from '../edge/scheduler.js';
import { SqliteTelemetryStore } from '../edge/telemetry/sqlite.js';
import { stringify as toYaml } from 'yaml';
import { runBacktest } from './commands/rules.js';

const BIN = fileURLToPath(new URL('../bin/gridsense.js', import.meta.url));
const T0 = Date.UTC(2026, 6, 1, 8, 0, 0);
const MIN = 60_000;
const at = (m: number) => new Date(T0 + m * MIN).toISOString();

const RULES = `rules:
  - id: bt-warning
    alarm: water_level_warning
    severity: major
    match: { kind: water_level }
    point: water_level
    threshold: { above: 3.5, hold: 2m, clearBelow: 3.3, clearHold: 1m }
  - id: bt-silent
    alarm: data_stale
    severity: minor
    match: { kind: water_level }
    point: water_level
    stale: { after: 10m }
`;

/**
 * wl-1 (its own lines: above 3.0, clear below 2.8): 2.5, 3.1 at 08:01 (above from here), 3.2, 3.3,
 *   3.1, 2.7 at 08:05 (below from here), 2.6, 2.6 at 08:07, then silence.
 *   → raise at 08:03 (above since 08:01 + 2 min hold); clear at 08:06 (below since 08:05 + 1 min);
 *     stale at 08:17 (last reading 08:07 + 10 min), still active at 08:30.
 * wl-2 (county lines, above 3.5): 3.6 every minute 08:00–08:25.
 *   → raise at 08:02 (above since 08:00 + 2 min), still active; stale would be 08:35, after --to.
 * ghost: not in edge.yaml, not evaluated, counted.
 */
function history(): Reading[] {
  const level = (deviceId: string, m: number, value: number): Reading => ({ deviceId, point: 'water_level', value, unit: 'm', quality: 'good', ts: T0 + m * MIN });
  const wl1 = [2.5, 3.1, 3.2, 3.3, 3.1, 2.7, 2.6, 2.6].map((v, m) => level('wl-1', m, v));
  const wl2 = Array.from({ length: 26 }, (_, m) => level('wl-2', m, 3.6));
  return [...wl1, ...wl2, level('ghost', 3, 9.9), level('wl-1', -30, 9.9) /* before --from */];
}

async function fixture(t: Test): Promise<{ dir: string; config: string; rules: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'gs-backtest-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const device = (id: string, o: Record<string, unknown> = {}) => ({
    id, profile: 'generic/radar-water-level-gauge', connection: { protocol: 'modbus-tcp', host: '127.0.0.1', port: 5020, unitId: 1 }, ...o,
  });
  const config = join(dir, 'edge.yaml');
  writeFileSync(config, toYaml({
    edge: { id: 'town-a', dataDir: './data' },
    cloud: { url: 'http://127.0.0.1:9', token: 'gse_x' },
    rules: ['./trial.yaml'],
    devices: [device('wl-1', { overrides: { 'bt-warning': { above: 3.0, clearBelow: 2.8 } } }), device('wl-2')],
  }));
  const rules = join(dir, 'trial.yaml');
  writeFileSync(rules, RULES); // the edge runs it (edge.yaml `rules`), and the tests try it
  // The store the edge would have written: <dataDir>/telemetry.db, a long retention.
  const store = new SqliteTelemetryStore({
    file: join(dir, 'data', 'telemetry.db'), retentionMs: Number.MAX_SAFE_INTEGER, batchSize: 1000, flushIntervalMs: 60_000, maxBuffer: 10_000,
    clock: systemClock, scheduler: systemScheduler, random: Math.random, logger: silentLogger(),
  });
  await store.start();
  store.write(history());
  await store.stop();
  return { dir, config, rules };
}

interface Json {
  readings: number;
  unconfigured: Record<string, number>;
  transitions: Array<{ ts: number; action: string; type: string; deviceId: string; ruleId: string; alarmId: string }>;
  active: Array<{ type: string; deviceId: string }>;
}

t.test('the alarms a known history raises and clears, worked out by hand', async (t) => {
  const { config, rules } = await fixture(t);
  const lines: string[] = [];
  t.equal(await runBacktest([rules], { from: at(0), to: at(30), config, json: true }, (l) => lines.push(l)), 0);
  const r = JSON.parse(lines.join('\n')) as Json;
  t.same(r.transitions.map((a) => [new Date(a.ts).toISOString(), a.action, a.type, a.deviceId]), [
    [at(2), 'raise', 'water_level_warning', 'wl-2'],
    [at(3), 'raise', 'water_level_warning', 'wl-1'],
    [at(6), 'clear', 'water_level_warning', 'wl-1'],
    [at(17), 'raise', 'data_stale', 'wl-1'],
  ]);
  t.same(r.active.map((a) => [a.type, a.deviceId]).sort(), [['data_stale', 'wl-1'], ['water_level_warning', 'wl-2']], 'still active at the end');
  t.equal(r.readings, 8 + 26, 'every configured reading in the range, once');
  t.same(r.unconfigured, { ghost: 1 });
  const ids = r.transitions.filter((a) => a.deviceId === 'wl-1' && a.type === 'water_level_warning').map((a) => a.alarmId);
  t.equal(new Set(ids).size, 1, 'raise and clear are one alarm');

  const text: string[] = [];
  await runBacktest([rules], { from: at(0), to: at(30), config }, (l) => text.push(l));
  t.match(text[0], new RegExp(`^${at(2)}  RAISE  water_level_warning  wl-2  water_level=3.6 m  major  bt-warning`));
  t.match(text.join('\n'), /3 raised, 1 cleared, 0 updated — 34 reading\(s\)/);
  t.match(text.join('\n'), /not evaluated \(not in .*edge\.yaml\): ghost \(1\)/);
});

t.test('--device, a narrower window, small pages: the same alarms as live would give', async (t) => {
  const { config, rules } = await fixture(t);
  const lines: string[] = [];
  await runBacktest([rules], { from: at(0), to: at(10), config, device: 'wl-1', json: true }, (l) => lines.push(l));
  const r = JSON.parse(lines.join('\n')) as Json;
  t.same(r.transitions.map((a) => [new Date(a.ts).toISOString(), a.action, a.deviceId]), [[at(3), 'raise', 'wl-1'], [at(6), 'clear', 'wl-1']], 'the stale alarm falls after --to');
  t.same(r.unconfigured, {});

  const { backtest } = await import('../edge/backtest.js');
  const { loadEdgeConfig } = await import('../edge/config.js');
  const cfg = loadEdgeConfig(config);
  const store = new SqliteTelemetryStore({
    file: join(cfg.edge.dataDir, 'telemetry.db'), retentionMs: Number.MAX_SAFE_INTEGER, batchSize: 1000, flushIntervalMs: 60_000, maxBuffer: 10,
    clock: systemClock, scheduler: systemScheduler, random: Math.random, logger: silentLogger(),
  });
  await store.start();
  t.teardown(() => store.stop());
  // Pages of 3 end in the middle of a minute's readings (wl-1 and wl-2 share timestamps).
  const paged = await backtest({ config: cfg, ruleFiles: [rules], store, from: T0, to: T0 + 30 * MIN, pageSize: 3 });
  t.equal(paged.readings, 34, 'no reading lost or repeated across pages');
  t.equal(paged.transitions.length, 4);
});

t.test("--with-edge-rules: an edited copy replaces the edge's file; the profile's default rules run too", async (t) => {
  const { dir, config } = await fixture(t);
  const edited = join(dir, 'trial-v2.yaml');
  writeFileSync(edited, RULES.replace('above: 3.5', 'above: 3.7'));
  const lines: string[] = [];
  await runBacktest([edited], { from: at(0), to: at(30), config, withEdgeRules: true, json: true }, (l) => lines.push(l));
  const r = JSON.parse(lines.join('\n')) as Json & { replaced: string[] };
  t.same(r.replaced, [join(dir, 'trial.yaml')], "the edge's own trial.yaml is replaced by the edited copy");
  t.same(r.transitions.map((a) => [new Date(a.ts).toISOString(), a.action, a.ruleId, a.deviceId]), [
    [at(2), 'raise', 'water-level-warning', 'wl-2'], // the radar gauge profile's default rule (3.5 m, 2 min)
    [at(3), 'raise', 'bt-warning', 'wl-1'], // wl-1's override (3.0) still applies to the edited rule
    [at(6), 'clear', 'bt-warning', 'wl-1'],
    [at(17), 'raise', 'bt-silent', 'wl-1'],
  ], 'wl-2 at 3.6 m no longer crosses the edited 3.7 m line');
});

t.test('bad input: a broken rule file is reported where it is broken, exit code ≠ 0', async (t) => {
  const { dir, config } = await fixture(t);
  const broken = join(dir, 'broken.yaml');
  writeFileSync(broken, 'rules:\n  - id: bt-warning\n    alarm: water_level_warning\n    severity: huge\n    point: water_level\n    threshold: { above: 3.5 }\n');
  const r = await new Promise<{ code: number; out: string; err: string }>((resolve) => {
    execFile(process.execPath, [BIN, 'rules', 'backtest', broken, '--from', at(0), '--to', at(30), '--config', config], { timeout: 60_000 }, (error, out, err) =>
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, out, err }));
  });
  t.not(r.code, 0, 'exit code');
  t.match(r.err, /GS_ERR_RULE_INVALID/);
  t.match(r.err, new RegExp(`${broken.replace(/[.]/g, '\\.')}: /rules/0/severity`), 'the file and the field');

  await t.rejects(runBacktest([join(dir, 'trial-missing.yaml')], { from: at(0), to: at(30), config }, () => undefined), { code: 'GS_ERR_RULE_INVALID' }, 'a missing rule file');
  writeFileSync(join(dir, 'trial.yaml'), RULES);
  await t.rejects(runBacktest([join(dir, 'trial.yaml')], { from: 'yesterday', to: at(30), config }, () => undefined), { code: 'GS_ERR_VALIDATION' }, 'a --from that is not a time');
  await t.rejects(runBacktest([join(dir, 'trial.yaml')], { from: at(30), to: at(0), config }, () => undefined), { code: 'GS_ERR_VALIDATION' }, '--from after --to');
  await t.rejects(runBacktest([join(dir, 'trial.yaml')], { from: at(0), to: at(30), config, device: 'nobody' }, () => undefined), { code: 'GS_ERR_DEVICE_UNKNOWN' }, 'an unknown --device');
  await t.rejects(runBacktest([join(dir, 'trial.yaml')], { from: at(0), to: at(30), config: join(dir, 'nope.yaml') }, () => undefined), { code: 'GS_ERR_CONFIG_READ' }, 'a missing edge.yaml');
});
