import t from 'tap';
import { ManualClock, systemClock } from '../contracts/clock.js';
import type { Reading } from '../contracts/reading.js';
import { ProfileLibrary } from '../device-profiles/library.js';
import { ManualScheduler } from '../test/helpers/manual-scheduler.js';
import { PymodbusServer } from '../test/helpers/pymodbus.js';
import { needs, pythonHasModule } from '../test/helpers/services.js';
import { waitFor } from '../test/helpers/wait.js';
import type { DeviceConfig } from './config.js';
import type { RawPointValue, Session } from './drivers/driver.js';
import { ModbusTcpDriver } from './drivers/modbus/driver.js';
import { silentLogger } from './log.js';
import { DevicePoller } from './poller.js';

import { systemScheduler } from './scheduler.js';

const gauge = ProfileLibrary.load().get('generic/radar-water-level-gauge');
const device = (port: number, pollIntervalMs: number): DeviceConfig => ({
  id: 'wl-1',
  name: 'gauge',
  profile: gauge.id,
  connection: { protocol: 'modbus-tcp', host: '127.0.0.1', port, timeout: '300ms', retries: 0 },
  pollIntervalMs,
});

t.test('a gauge that goes away and comes back: bad readings, the poller keeps going, then good again', async (t) => {
  if (!(await needs(t, 'pymodbus (Debian python3-pymodbus, run by /usr/bin/python3)', () => pythonHasModule('pymodbus')))) return;
  const server = await new PymodbusServer({ init: 'holding:0=250,holding:4=120' }).start();
  t.teardown(() => server.stop());
  const deps = { clock: systemClock, scheduler: systemScheduler, random: Math.random, logger: silentLogger() };
  // Reconnect quickly so the test does not wait out a production backoff.
  const driver = new ModbusTcpDriver(deps, { reconnect: { baseMs: 20, capMs: 100 } });
  const dev = device(server.port, 30);
  const session = driver.open(dev.connection);
  const polls: Reading[][] = [];
  const poller = new DevicePoller({ device: dev, profile: gauge, session, ...deps, onReadings: (r) => void polls.push(r) });
  poller.start();
  t.teardown(async () => {
    await poller.stop();
    await session.close();
  });
  const level = (r: Reading[]) => r.find((x) => x.point === 'water_level')!;

  await waitFor('a good reading', () => polls.find((p) => level(p).quality === 'good'));
  t.equal(level(polls.at(-1)!).value, 2.5);
  t.ok(poller.status().online, 'online once it answered');

  await server.stop();
  const firstBad = polls.length;
  const bad = await waitFor('bad readings', () => polls.slice(firstBad).find((p) => level(p).quality === 'bad'));
  t.match(level(bad).reason, /^(connection_lost|connection_refused|timeout)$/, `reason ${level(bad).reason}`);
  await waitFor('misses to be counted', () => (poller.status().consecutiveMisses >= 3 ? true : undefined));
  const misses = poller.status().consecutiveMisses;
  await waitFor('more polls while it is down', () => (poller.status().consecutiveMisses > misses ? true : undefined));

  await server.start();
  const back = polls.length;
  const good = await waitFor('good readings again', () => polls.slice(back).find((p) => level(p).quality === 'good'));
  t.equal(level(good).value, 2.5);
  t.ok(poller.status().online, 'online again');
  t.equal(poller.status().consecutiveMisses, 0);
});

/** A session the test answers by hand, to pin down the poller's timing without waiting on a device. */
class HandSession implements Session {
  readonly calls: Array<(v: RawPointValue[]) => void> = [];
  read(): Promise<RawPointValue[]> {
    return new Promise((resolve) => this.calls.push(resolve));
  }
  async write(): Promise<void> {}
  async close(): Promise<void> {}
}

t.test('the first poll waits its start offset, then polls at a fixed rate; a slow poll skips a tick', async (t) => {
  const clock = new ManualClock();
  const scheduler = new ManualScheduler(clock);
  const session = new HandSession();
  const got: Reading[][] = [];
  const poller = new DevicePoller({
    device: device(0, 1000), profile: gauge, session, clock, scheduler, logger: silentLogger(),
    onReadings: (r) => void got.push(r), startOffsetMs: 250,
  });
  poller.start();
  t.same(scheduler.pending, [250], 'first poll after the stagger offset');
  scheduler.advance(250);
  t.equal(session.calls.length, 1, 'polled');
  t.same(scheduler.pending, [1000], 'next tick already set: fixed rate');
  scheduler.advance(1000);
  t.equal(session.calls.length, 1, 'the tick found the first poll still running and skipped');
  t.equal(poller.status().overruns, 1);
  session.calls[0]!(gauge.points.map((p) => ({ point: p.name, ok: false, reason: 'timeout', unreachable: true })));
  await waitFor('readings', () => (got.length === 1 ? true : undefined));
  t.equal(poller.status().consecutiveMisses, 1);
  scheduler.advance(1000);
  t.equal(session.calls.length, 2);
  session.calls[1]!(gauge.points.map((p) => ({ point: p.name, ok: true, value: 1 })));
  await waitFor('readings', () => (got.length === 2 ? true : undefined));
  t.equal(got[1]![0]!.ts, clock.now(), 'readings carry the injected clock');
  t.match(poller.status(), { online: true, consecutiveMisses: 0, polls: 2 });
  await poller.stop();
  t.same(scheduler.pending, [], 'stop clears the timer');
});

t.test('offline after the profile\'s offlineAfterSeconds worth of misses', async (t) => {
  const scheduler = new ManualScheduler();
  const session = new HandSession();
  const poller = new DevicePoller({
    device: device(0, 20_000), profile: gauge, session, clock: new ManualClock(), scheduler, logger: silentLogger(), onReadings: () => undefined,
  });
  const answer = (ok: boolean) => session.calls.at(-1)!(gauge.points.map((p) => (ok ? { point: p.name, ok: true as const, value: 1 } : { point: p.name, ok: false as const, reason: 'timeout', unreachable: true })));
  const poll = async (ok: boolean) => {
    const p = poller.pollOnce();
    answer(ok);
    await p;
  };
  await poll(true);
  t.ok(poller.status().online);
  await poll(false);
  await poll(false);
  t.ok(poller.status().online, 'gauge: offlineAfterSeconds 60 at 20 s polls = 3 misses');
  await poll(false);
  t.notOk(poller.status().online, 'offline after the third miss');
  await poller.stop();
});

/** A push session (as MQTT and OPC UA sessions are): delivers some points by subscription, the rest by read. */
class PushSession extends HandSession {
  push?: (v: RawPointValue) => void;
  subscribed: string[] = [];
  unsubscribed = 0;
  readPoints: string[][] = [];
  override read(points: readonly { name: string }[] = []): Promise<RawPointValue[]> {
    this.readPoints.push(points.map((p) => p.name));
    return super.read();
  }
  subscribe(points: readonly { name: string }[], onValue: (v: RawPointValue) => void): () => void {
    this.subscribed = points.map((p) => p.name);
    this.push = onValue;
    return () => void this.unsubscribed++;
  }
  subscribes(point: { name: string }): boolean {
    return point.name !== 'supply_voltage';
  }
}

t.test('a session with subscribe: pushed readings flow through, only the other points are polled', async (t) => {
  const clock = new ManualClock();
  const scheduler = new ManualScheduler(clock);
  const session = new PushSession();
  const got: Reading[][] = [];
  const poller = new DevicePoller({ device: device(0, 1000), profile: gauge, session, clock, scheduler, logger: silentLogger(), onReadings: (r) => void got.push(r) });
  poller.start();
  t.same(session.subscribed, ['water_level', 'air_distance', 'signal_fault'], 'subscribed to what the session can push');
  session.push!({ point: 'water_level', ok: true, value: 321 });
  await waitFor('pushed reading', () => (got.length === 1 ? true : undefined));
  t.match(got[0], [{ point: 'water_level', value: 3.21, unit: 'm', quality: 'good', ts: clock.now() }], 'the profile step applies to pushed values');
  t.match(poller.status(), { online: true, pushed: 1, polls: 0 });
  scheduler.advance(0);
  t.same(session.readPoints, [['supply_voltage']], 'polling reads only the point without a subscription');
  session.calls[0]!([{ point: 'supply_voltage', ok: true, value: 120 }]);
  await waitFor('polled reading', () => (got.length === 2 ? true : undefined));
  session.push!({ point: 'water_level', ok: false, reason: 'last_will', unreachable: true });
  await waitFor('pushed bad reading', () => (got.length === 3 ? true : undefined));
  t.match(poller.status(), { online: false, consecutiveMisses: 60, offlineAfterMisses: 60 }, 'a pushed unreachable value is offline at once (60 s at 1 s polls)');
  await poller.stop();
  t.equal(session.unsubscribed, 1, 'stop unsubscribes');
  session.push!({ point: 'water_level', ok: true, value: 1 });
  t.equal(got.length, 3, 'nothing after stop');
});

t.test('a push-only device that falls silent past offlineAfterSeconds goes offline; the device config overrides misses', async (t) => {
  const clock = new ManualClock();
  const scheduler = new ManualScheduler(clock);
  const session = new PushSession();
  session.subscribes = () => true;
  const got: Reading[][] = [];
  const states: string[] = [];
  const poller = new DevicePoller({ device: device(0, 20_000), profile: gauge, session, clock, scheduler, logger: silentLogger(), onReadings: (r) => void got.push(r), onStatus: (s) => void states.push(`${s.state}:${s.lastError ?? ''}`) });
  poller.start();
  session.push!({ point: 'water_level', ok: true, value: 100 });
  scheduler.advance(40_000);
  t.same(session.readPoints, [], 'nothing is polled');
  t.ok(poller.status().online, 'silent for 40 s < 60 s');
  scheduler.advance(20_000);
  t.notOk(poller.status().online, 'offline after 60 s of silence');
  t.same(states, ['online:', 'offline:silent'], 'each change of state is reported once, with the reason');
  await poller.stop();

  const own = new DevicePoller({ device: { ...device(0, 20_000), offlineAfterMisses: 1 }, profile: gauge, session: new HandSession(), clock, scheduler, logger: silentLogger(), onReadings: () => undefined });
  t.equal(own.status().offlineAfterMisses, 1, 'device offlineAfterMisses wins over the profile');
});

t.test('a device that never answers is reported offline once, with the reason; its first answer reports online', async (t) => {
  const session = new HandSession();
  const states: string[] = [];
  const poller = new DevicePoller({
    device: device(0, 20_000), profile: gauge, session, clock: new ManualClock(), scheduler: new ManualScheduler(), logger: silentLogger(),
    onReadings: () => undefined, onStatus: (s) => void states.push(`${s.state}:${s.lastError ?? ''}`),
  });
  const poll = async (ok: boolean) => {
    const p = poller.pollOnce();
    session.calls.at(-1)!(gauge.points.map((x) => (ok ? { point: x.name, ok: true as const, value: 1 } : { point: x.name, ok: false as const, reason: 'connect_timeout', unreachable: true })));
    await p;
  };
  t.equal(poller.status().state, 'starting');
  for (let i = 0; i < 5; i++) await poll(false);
  t.same(states, ['offline:connect_timeout'], 'offline from boot is a change of state too');
  await poll(true);
  t.same(states, ['offline:connect_timeout', 'online:']);
  t.equal(poller.status().lastError, undefined);
});

t.test('a push-only device that never sends anything goes offline after offlineAfterSeconds from start', async (t) => {
  const clock = new ManualClock();
  const scheduler = new ManualScheduler(clock);
  const session = new PushSession();
  session.subscribes = () => true;
  const states: string[] = [];
  const poller = new DevicePoller({ device: device(0, 20_000), profile: gauge, session, clock, scheduler, logger: silentLogger(), onReadings: () => undefined, onStatus: (s) => void states.push(s.state) });
  poller.start();
  scheduler.advance(40_000);
  t.same(states, []);
  scheduler.advance(20_000);
  t.same(states, ['offline']);
  await poller.stop();
});
