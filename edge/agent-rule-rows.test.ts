// The agent's rule state on disk, one row per state key: a reading writes only the rows it changed,
// an older edge's whole document is still read, a failed commit puts the rules back to what the disk
// says, and an `all:` rule's due time moves the timer for every device of its site. Real SQLite
// (the edge's own file, read beside it); readings arrive through a push driver standing in for the
// MQTT broker's delivery (the codec is not under test), and time is virtual.
import t, { type Test } from 'tap';
import Database from 'better-sqlite3';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../contracts/clock.js';
import type { ProfilePoint } from '../contracts/profile.js';
import { ManualScheduler } from '../test/helpers/manual-scheduler.js';
import { waitFor } from '../test/helpers/wait.js';
import { EdgeAgent } from './agent.js';
import { parseEdgeConfig } from './config.js';
import type { Driver, RawPointValue } from './drivers/driver.js';
import { DriverRegistry } from './drivers/registry.js';
import { silentLogger } from './log.js';
import type { Scheduler, TimerHandle } from './scheduler.js';
import { RuleStateStore } from './state/rule-state.js';
import { RuleStateRows, type RuleRowChanges } from './state/rule-rows.js';

const MIN = 60_000;
const T0 = Date.UTC(2026, 6, 1, 8, 0, 0);

const profile = (id: string, kind: string, point: string, unit: string) => `
id: test/${id}
vendor: test
model: ${id}
name: ${id}
kind: ${kind}
protocol: mqtt
points:
  - name: ${point}
    type: number
    unit: ${unit}
    range: { min: -50, max: 200 }
    mqtt: { topic: telemetry, json: v }
`;

const RULES = `
rules:
  - id: level-high
    alarm: water_level_high
    severity: major
    match: { kind: water_level }
    point: water_level
    threshold: { above: 3.5, clearBelow: 3.3 }
  - id: flood-and-heat
    alarm: flood_and_heat
    severity: major
    all:
      of:
        - { kind: water_level, point: water_level, above: 3.5, clearBelow: 3.3 }
        - { kind: temperature_humidity, point: temperature, above: 57, clearBelow: 50 }
      within: 10m
`;

/** A Scheduler that also knows the absolute due time of every timer still waiting. */
class WatchedScheduler implements Scheduler {
  readonly waiting = new Map<TimerHandle, number>();
  constructor(
    private readonly inner: ManualScheduler,
    private readonly clock: ManualClock,
  ) {}
  setTimeout(fn: () => void, ms: number): TimerHandle {
    const h: TimerHandle = this.inner.setTimeout(() => {
      this.waiting.delete(h);
      fn();
    }, ms);
    this.waiting.set(h, this.clock.now() + Math.max(0, ms));
    return h;
  }
  clearTimeout(h: TimerHandle): void {
    this.waiting.delete(h);
    this.inner.clearTimeout(h);
  }
}

interface Device {
  id: string;
  profile: 'gauge' | 'thermo';
  place?: string;
}

async function rig(t: Test, devices: Device[], dir = mkdtempSync(join(tmpdir(), 'gs-rule-rows-agent-'))) {
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'profiles'), { recursive: true });
  writeFileSync(join(dir, 'profiles', 'gauge.yaml'), profile('gauge', 'water_level', 'water_level', 'm'));
  writeFileSync(join(dir, 'profiles', 'thermo.yaml'), profile('thermo', 'temperature_humidity', 'temperature', '°C'));
  writeFileSync(join(dir, 'rules.yaml'), RULES);
  const push = new Map<string, { points: readonly ProfilePoint[]; onValue: (v: RawPointValue) => void }>();
  const driver: Driver = {
    protocol: 'test-push',
    profileProtocol: 'mqtt',
    validateConnection: () => [],
    open: (conn) => ({
      read: async (points) => points.map((p) => ({ point: p.name, ok: false as const, reason: 'no_data', unreachable: false })),
      write: async () => undefined,
      subscribes: () => true,
      subscribe: (points, onValue) => {
        push.set(conn.deviceId as string, { points, onValue });
        return () => void push.delete(conn.deviceId as string);
      },
      close: async () => undefined,
    }),
  };
  const drivers = new DriverRegistry([driver]);
  const list = devices.map((d) => `  - { id: ${d.id}, profile: test/${d.profile}, ${d.place ? `place: ${d.place}, ` : ''}connection: { protocol: test-push }, pollInterval: 1h }`).join('\n');
  const yaml = `edge: { id: rows, dataDir: ./data }\ncloud: { url: http://127.0.0.1:9, token: gse_rows }\nmqtt: { broker: { enabled: false } }\nprofiles: [./profiles]\nrules: [./rules.yaml]\ndevices:\n${list}\n`;
  const config = parseEdgeConfig(yaml, join(dir, 'edge.yaml'), { drivers });
  const clock = new ManualClock(T0);
  const manual = new ManualScheduler(clock);
  const scheduler = new WatchedScheduler(manual, clock);
  const dbPath = join(config.edge.dataDir, 'edge.db');
  let taken = 0;
  const start = async () => {
    const agent = new EdgeAgent(config, { clock, scheduler, logger: silentLogger(), drivers });
    await agent.start();
    agent.tap((readings) => void (taken += readings.length));
    return agent;
  };
  /** One pushed value; returns once the agent has run it through the rules and committed (all synchronous after the tap). */
  const send = async (deviceId: string, value: number) => {
    const sub = push.get(deviceId)!;
    const before = taken;
    sub.onValue({ point: sub.points[0]!.name, ok: true, value });
    await waitFor(`the reading of ${deviceId}`, () => (taken > before ? true : undefined), 30_000, 2);
  };
  /** A second connection on the edge's file, as an operator's sqlite3 would be. */
  const peek = () => {
    const db = new Database(dbPath);
    t.teardown(() => db.close());
    return db;
  };
  return { dir, config, clock, manual, scheduler, start, send, peek, dbPath };
}

const rowsOf = (db: Database.Database) => Object.fromEntries((db.prepare('SELECT key, json FROM rule_state ORDER BY key').all() as Array<{ key: string; json: string }>).map((r) => [r.key, JSON.parse(r.json) as unknown]));
const outboxOf = (db: Database.Database) => (db.prepare("SELECT payload FROM outbox WHERE kind = 'alarm' ORDER BY seq").all() as Array<{ payload: string }>).map((r) => JSON.parse(r.payload) as { deviceId: string; action: string; alarmId: string; seq: number; type: string });

/** Records every RuleStateRows.write while the test runs. */
function spyWrites(t: Test): Array<{ all: boolean; set: string[]; deleted: string[] }> {
  const calls: Array<{ all: boolean; set: string[]; deleted: string[] }> = [];
  const original = RuleStateRows.prototype.write;
  RuleStateRows.prototype.write = function (this: RuleStateRows, changes: RuleRowChanges, at: number) {
    calls.push({ all: changes.all, set: [...changes.set.keys()], deleted: [...changes.deleted] });
    return original.call(this, changes, at);
  };
  t.teardown(() => void (RuleStateRows.prototype.write = original));
  return calls;
}

t.test('a reading writes only the rows it changed, not every device\'s state', async (t) => {
  const devices: Device[] = Array.from({ length: 20 }, (_, i) => ({ id: `wl-${i}`, profile: 'gauge' }));
  const { start, send, peek } = await rig(t, devices);
  const writes = spyWrites(t);
  const agent = await start();
  t.teardown(() => agent.stop());
  for (const d of devices) await send(d.id, 3.9);
  const db = peek();
  t.equal(Object.keys(rowsOf(db)).length, 20, 'one row per device with an active alarm');
  t.equal(outboxOf(db).length, 20, '20 raises');
  t.ok(writes.slice(1).every((w) => !w.all && w.set.length === 1 && w.deleted.length === 0), 'each raise wrote its own row only');

  writes.length = 0;
  await send('wl-7', 3.9);
  t.same(writes, [], 'a reading that changes no state writes nothing');
  await send('wl-7', 3.0);
  // A cleared threshold keeps no state: its row goes.
  t.same(writes, [{ all: false, set: [], deleted: ['level-high|wl-7'] }], 'the clear deleted the row of wl-7 alone');
  t.equal(outboxOf(db).at(-1)?.action, 'clear');
  const rows = rowsOf(db);
  t.equal(Object.keys(rows).length, 19);
  t.notOk(rows['level-high|wl-7']);
  t.ok(rows['level-high|wl-8'], 'wl-8 still active');
});

t.test('an edge.db from an older edge (one whole document) is read, then kept as rows', async (t) => {
  const { start, send, peek, dbPath } = await rig(t, [{ id: 'wl-1', profile: 'gauge' }, { id: 'wl-2', profile: 'gauge' }]);
  const first = await start();
  await send('wl-1', 3.9);
  await first.stop();
  // Rewrite the file as the previous version left it: the state as one document, no rows.
  const old = new Database(dbPath);
  const doc = rowsOf(old);
  t.ok(doc['level-high|wl-1'], 'the active alarm was saved');
  old.exec('DROP TABLE rule_state');
  RuleStateStore.in(old).save(JSON.stringify(doc), T0);
  old.close();

  const second = await start();
  t.teardown(() => second.stop());
  const db = peek();
  t.same(rowsOf(db), doc, 'the document became rows');
  t.equal(RuleStateStore.in(db).load(), undefined, 'and is gone');
  await send('wl-1', 3.0);
  const [raise, clear] = outboxOf(db);
  t.match(clear, { action: 'clear', alarmId: raise!.alarmId, seq: 1 }, 'the alarm raised under the old format clears with its own id');
});

t.test('a failed commit puts the rules back to what the disk says', async (t) => {
  const { start, send, peek } = await rig(t, [{ id: 'wl-1', profile: 'gauge' }, { id: 'wl-2', profile: 'gauge' }]);
  const agent = await start();
  t.teardown(() => agent.stop());
  await send('wl-1', 3.9);
  await send('wl-2', 3.9);
  const db = peek();
  const before = rowsOf(db);
  // The outbox refuses every insert, as a full disk would: the alarm and its rows fail together.
  db.exec("CREATE TRIGGER refuse BEFORE INSERT ON outbox BEGIN SELECT RAISE(ABORT, 'disk full'); END");
  await send('wl-1', 3.0);
  t.same(rowsOf(db), before, 'no row changed');
  t.equal(outboxOf(db).length, 2, 'no clear stored');
  db.exec('DROP TRIGGER refuse');
  await send('wl-1', 3.0);
  const out = outboxOf(db);
  t.same(out.map((a) => `${a.deviceId} ${a.action} ${a.seq}`), ['wl-1 raise 0', 'wl-2 raise 0', 'wl-1 clear 1'], 'the next reading clears again: the engine had been put back to active');
  const after = rowsOf(db);
  t.notOk(after['level-high|wl-1'], 'wl-1 now stored as cleared (a cleared threshold keeps no state: no row)');
  t.same(after['level-high|wl-2'], before['level-high|wl-2'], 'wl-2 untouched');
  await send('wl-2', 3.0);
  t.equal(outboxOf(db).at(-1)?.deviceId, 'wl-2', 'the other device carries on');
});

t.test('an `all:` rule\'s due time is updated for every device of its site', async (t) => {
  const { start, send, manual, scheduler, peek } = await rig(t, [
    { id: 'wl-a', profile: 'gauge', place: 'yard' },
    { id: 'th-b', profile: 'thermo', place: 'yard' },
    { id: 'wl-c', profile: 'gauge', place: 'pier' },
  ]);
  const agent = await start();
  t.teardown(() => agent.stop());
  const dues = () => [...scheduler.waiting.values()];
  // Off the round minutes, where the telemetry summaries have their own timers.
  const A = T0 + 7_000;
  manual.advance(7_000);
  await send('wl-a', 3.9);
  manual.advance(MIN);
  await send('th-b', 60);
  const db = peek();
  t.same(outboxOf(db).filter((a) => a.type === 'flood_and_heat').map((a) => `${a.deviceId} ${a.action}`), ['th-b raise']);
  // The combination ends when the older member value leaves the 10 minute window: wl-a's, at A+10m.
  t.ok(dues().includes(A + 10 * MIN), 'the timer is set for A+10m');
  manual.advance(4 * MIN);
  await send('wl-a', 3.9);
  // Now th-b's value (A+1m) is the older one: A+11m, for wl-a and th-b alike. A cache refreshed for
  // wl-a alone would keep th-b's stale A+10m and wake the timer early.
  t.ok(dues().includes(A + 11 * MIN), 'the timer moved to A+11m');
  t.notOk(dues().includes(A + 10 * MIN), 'no timer left at the old due time');
  await send('wl-c', 3.9); // another site: does not move this one
  t.ok(dues().includes(A + 11 * MIN));
  manual.advance(6 * MIN + 1000);
  t.same(outboxOf(db).filter((a) => a.type === 'flood_and_heat').map((a) => `${a.deviceId} ${a.action}`), ['th-b raise', 'th-b clear'], 'the timer cleared the combination');
});
