// The tick contract: what time alone causes is stamped with the moment it fell due, so how often the
// edge ticks — every few seconds, at nextDue(), or never (a backtest replaying readings only) — and
// whether the edge restarts in between never changes the alarms, only when they are emitted.
import t from 'tap';
import type { Quality, Reading, ReadingValue } from '../contracts/reading.js';
import { loadRuleFiles } from './compile.js';
import { RuleEngine } from './engine.js';
import { listLibraryRuleFiles } from './library.js';
import { MIN, SEC, T0 } from './test-support.js';
import type { RuleAlarm, RuleDevice } from './types.js';

const sets = loadRuleFiles(listLibraryRuleFiles());
const HOME = 'xinhe-nursing-home';
const d = (id: string, profile: string, kind: string, site?: string): RuleDevice => ({ id, profile: `generic/${profile}`, kind, ...(site ? { site } : {}) });
const DEVICES = [
  d('wl-1', 'radar-water-level-gauge', 'water_level'),
  d('rg-1', 'tipping-bucket-rain-gauge', 'rain_gauge'),
  d('sd-1', 'photoelectric-smoke-detector', 'smoke_detector', HOME),
  d('nb-1', 'nb-smoke-detector', 'smoke_detector', HOME),
  d('th-1', 'temperature-humidity-sensor', 'temperature_humidity', HOME),
  d('gd-1', 'combustible-gas-detector', 'gas_detector'),
  d('acs-1', 'access-controller', 'access_control'),
  d('mc-1', 'manhole-cover-tilt-sensor', 'manhole_cover'),
];

/** A small deterministic PRNG (mulberry32), so a failing seed can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

/** What each device reports, with values that cross the library's lines now and then. */
const POINTS: Record<string, Array<[string, (r: () => number) => ReadingValue]>> = {
  'wl-1': [['water_level', (r) => 2.5 + r() * 2.5], ['signal_fault', (r) => r() < 0.1]],
  'rg-1': [['rainfall_total', (r) => Math.floor(r() * 3) * 20], ['rainfall_1h', (r) => r() * 30], ['rainfall_today', (r) => r() * 120], ['rain_intensity', (r) => r() * 60], ['supply_low', (r) => r() < 0.2], ['sensor_fault', (r) => r() < 0.1]],
  'sd-1': [['smoke_alarm', (r) => r() < 0.3], ['temperature', (r) => 30 + r() * 40], ['tamper', (r) => r() < 0.1], ['fault', (r) => r() < 0.1], ['battery_percent', (r) => r() * 40]],
  'nb-1': [['smoke_alarm', (r) => r() < 0.3], ['battery_percent', (r) => r() * 40], ['temperature', (r) => 30 + r() * 40]],
  'th-1': [['temperature', (r) => 30 + r() * 40], ['sensor_fault', (r) => r() < 0.1]],
  'gd-1': [['gas_concentration', (r) => r() * 70], ['over_range', (r) => r() < 0.05], ['sensor_end_of_life', (r) => r() < 0.1]],
  'acs-1': [['card_granted', (r) => r() < 0.4], ['door_open', (r) => r() < 0.5], ['door_forced_open', (r) => r() < 0.1], ['door_held_open', (r) => r() < 0.1], ['tamper', (r) => r() < 0.05], ['battery_percent', (r) => r() * 40]],
  'mc-1': [['cover_tilted', (r) => r() < 0.2], ['water_under_cover', (r) => r() < 0.2], ['battery_low', (r) => r() < 0.2], ['sensor_fault', (r) => r() < 0.1], ['battery_percent', (r) => r() * 100]],
};

/**
 * A day and a half of readings: random points of random devices a few seconds to two minutes apart,
 * now and then a silence of hours, some bad readings — and, at random times, the scenes the library
 * is for (card attempts, fire in the nursing home, a door left open), so every kind of rule fires.
 */
function timeline(seed: number): Array<{ device: RuleDevice; reading: Reading }> {
  const r = prng(seed);
  const out: Array<{ device: RuleDevice; reading: Reading }> = [];
  const push = (device: RuleDevice, at: number, point: string, value: ReadingValue, quality: Quality = 'good') =>
    out.push({ device, reading: { deviceId: device.id, point, value: quality === 'bad' ? null : value, quality, ts: T0 + at } });
  const byId = (id: string) => DEVICES.find((x) => x.id === id)!;
  const END = 36 * 60 * MIN;
  let at = 0;
  while (at < END) {
    at += r() < 0.003 ? Math.floor(r() * 26 * 60) * MIN : Math.floor(r() * 120) * SEC + 1;
    const device = DEVICES[Math.floor(r() * DEVICES.length)]!;
    const points = POINTS[device.id]!;
    const [point, gen] = points[Math.floor(r() * points.length)]!;
    push(device, at, point, gen(r), r() < 0.05 ? 'bad' : 'good');
  }
  for (let scene = 0; scene < 3; scene++) {
    const s0 = Math.floor(r() * END);
    for (let i = 0; i < 6; i++) push(byId('acs-1'), s0 + i * 10 * SEC, 'card_granted', false);
    push(byId('sd-1'), s0 + 2 * MIN, 'smoke_alarm', true);
    push(byId('th-1'), s0 + 3 * MIN, 'temperature', 65);
    push(byId('acs-1'), s0 + 4 * MIN, 'door_held_open', true);
    push(byId('acs-1'), s0 + 50 * MIN, 'door_held_open', false);
  }
  return out.sort((a, b) => a.reading.ts - b.reading.ts);
}

type Mode = { name: string; ticks: 'every' | 'due' | 'none'; restarts?: number[] };

/** Runs a timeline; every transition, and the order in which the alarms of each alarm id came out. */
function run(events: ReturnType<typeof timeline>, mode: Mode): RuleAlarm[] {
  let engine = new RuleEngine(sets);
  const out: RuleAlarm[] = [];
  const tickAll = (now: number) => {
    for (const dev of DEVICES) out.push(...engine.tick(dev, now));
  };
  const tickDue = (until: number) => {
    // As the edge would: one timer at the earliest nextDue of any device, re-armed after each firing.
    for (let guard = 0; guard < 10_000; guard++) {
      const next = Math.min(...DEVICES.map((dev) => engine.nextDue(dev) ?? Infinity));
      if (!(next <= until)) return;
      tickAll(next + 250); // a timer fires a little late
    }
  };
  tickAll(T0); // start: the edge ticks every device once
  let last = T0;
  events.forEach(({ device, reading }, i) => {
    if (mode.restarts?.includes(i)) {
      const saved = JSON.stringify(engine.exportState());
      engine = new RuleEngine(sets);
      t.same(engine.importState(JSON.parse(saved)).dropped, [], 'a saved state reads back whole');
    }
    if (mode.ticks === 'every') for (let at = last + 20 * SEC; at < reading.ts; at += 20 * SEC) tickAll(at);
    if (mode.ticks === 'due') tickDue(reading.ts - 1);
    out.push(...engine.process(reading, device, reading.ts));
    last = reading.ts;
  });
  tickAll(T0 + 3 * 24 * 60 * MIN); // the end of the replay: everything still due
  return out;
}

const key = (a: RuleAlarm) => `${a.alarmId}#${String(a.seq).padStart(4, '0')}`;
const sorted = (as: RuleAlarm[]) => [...as].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));

for (const seed of [1, 2, 3]) {
  t.test(`seed ${seed}: the same alarms however often the edge ticks, and across restarts`, async (t) => {
    const events = timeline(seed);
    const replay = run(events, { name: 'replay', ticks: 'none' });
    const actions = new Set(replay.map((a) => `${a.type}:${a.action}`));
    t.ok(replay.length > 50, `${replay.length} transitions over ${events.length} readings`);
    for (const needed of ['data_stale:raise', 'access_denied_repeated:clear', 'smoke_fire_confirmed:raise', 'door_held_open:update']) {
      t.ok(actions.has(needed), `the timeline exercises ${needed}`);
    }
    const cuts = [Math.floor(events.length / 5), Math.floor(events.length / 2), Math.floor((events.length * 4) / 5)];
    for (const mode of [
      { name: 'tick every 20 s', ticks: 'every' },
      { name: 'tick at nextDue', ticks: 'due' },
      { name: 'tick at nextDue, restarted 3 times', ticks: 'due', restarts: cuts },
      { name: 'replay, restarted 3 times', ticks: 'none', restarts: cuts },
    ] as Mode[]) {
      const got = run(events, mode);
      t.same(sorted(got), sorted(replay), `${mode.name}: identical transitions`);
      const seqs = new Map<string, number>();
      let inOrder = true;
      for (const a of got) {
        if ((seqs.get(a.alarmId) ?? -1) !== a.seq - 1) inOrder = false;
        seqs.set(a.alarmId, a.seq);
      }
      t.ok(inOrder, `${mode.name}: each alarm's transitions come out in seq order, none missing`);
    }
  });
}

t.test('pure: every library rule takes frozen state and never changes it', async (t) => {
  const deepFreeze = <T>(o: T): T => {
    if (o && typeof o === 'object' && !Object.isFrozen(o)) {
      Object.freeze(o);
      for (const v of Object.values(o)) deepFreeze(v);
    }
    return o;
  };
  const events = timeline(7);
  const states = new Map<string, Record<string, unknown>>();
  let n = 0;
  for (const set of sets) {
    for (const rule of set.rules) {
      for (const { device, reading } of events) {
        if (!rule.appliesTo(device)) continue;
        const key = rule.scope === 'site' ? `${rule.id}|@${device.site}` : `${rule.id}|${device.id}`;
        const before = deepFreeze(states.get(key) ?? {});
        const ticked = rule.tick(before, device, reading.ts - 1);
        const r = rule.evaluate(deepFreeze(ticked.state), reading, device, reading.ts);
        states.set(key, r.state);
        n++;
      }
    }
  }
  t.ok(n > 500, `${n} evaluations on frozen state, none threw`);
});
