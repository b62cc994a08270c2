// Every networked store survives its database going away while telemetry flows: readings wait in the
// bounded buffer (maxBuffer; beyond it the oldest are dropped and counted — not reached here), the
// failed flush schedules a retry, and once the server is back the backlog goes out, in order, ending
// with every point present. Real servers of the test's own, really stopped and restarted on the same
// port and data: InfluxDB 1.6 (influxd) and, for the 2.x write path, VictoriaMetrics.
// (The embedded SQLite store has no server to lose; its writes fail only with the disk.)
import t, { type Test } from 'tap';
import { ManualClock } from '../../contracts/clock.js';
import type { Reading } from '../../contracts/reading.js';
import { hasInfluxd, INFLUXD, Influxd } from '../../test/helpers/influxd.js';
import { ManualScheduler } from '../../test/helpers/manual-scheduler.js';
import { needs } from '../../test/helpers/services.js';
import { hasVictoriaMetrics, VICTORIA_METRICS, VictoriaMetrics } from '../../test/helpers/victoria-metrics.js';
import type { DbProcess } from '../../test/helpers/db-process.js';
import { silentLogger } from '../log.js';
import { Influx1TelemetryStore } from './influx1.js';
import { Influx2TelemetryStore } from './influx2.js';
import { influx2Options, readBack } from './influx2-support.js';
import type { TelemetryStore } from './store.js';

const T0 = Date.UTC(2026, 6, 1, 8);
const reading = (i: number): Reading => ({ deviceId: 'd-outage', point: 'water_level', value: i / 10, unit: 'm', quality: 'good', ts: T0 + i * 1000 });
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, k) => from + k);

async function outage(t: Test, server: DbProcess, store: TelemetryStore, scheduler: ManualScheduler, stored: () => Promise<number[]>): Promise<void> {
  await store.start();
  t.teardown(() => store.stop());
  // Before: the interval flush writes as usual.
  store.write(range(0, 10).map(reading));
  await store.flush();
  t.same(await stored(), range(0, 10), 'written while the server is up');

  await server.stop();
  store.write(range(10, 30).map(reading));
  await t.rejects(store.flush(), { code: 'GS_ERR_TELEMETRY_WRITE' }, 'a flush while it is down fails…');
  t.ok(scheduler.pending.length > 0, '…and schedules a retry');
  store.write(range(30, 40).map(reading)); // readings keep flowing into the buffer
  await t.rejects(store.flush(), { code: 'GS_ERR_TELEMETRY_WRITE' });

  await server.start();
  scheduler.fireNext(); // the retry timer
  await store.flush();
  store.write(range(40, 45).map(reading));
  await store.flush();
  t.same(await stored(), range(0, 45), 'after the restart every point is there, none twice');
}

t.test('InfluxDB 1.6 stopped and restarted while telemetry flows', async (t) => {
  if (!(await needs(t, INFLUXD, hasInfluxd))) return;
  const influxd = await new Influxd().start();
  t.teardown(() => influxd.dispose());
  const scheduler = new ManualScheduler(new ManualClock(T0));
  const store = new Influx1TelemetryStore({
    url: influxd.url, database: 'gridsense', batchSize: 8, flushIntervalMs: 1000, maxBuffer: 1000, requestTimeoutMs: 2000,
    clock: new ManualClock(T0), scheduler, random: () => 0.5, logger: silentLogger(),
  });
  await outage(t, influxd, store, scheduler, async () => {
    const rs = await store.query({ deviceId: 'd-outage', from: T0, to: T0 + 3_600_000 });
    return rs.map((r) => Math.round((r.value as number) * 10));
  });
});

t.test('VictoriaMetrics (InfluxDB 2.x write API) stopped and restarted while telemetry flows', async (t) => {
  if (!(await needs(t, VICTORIA_METRICS, hasVictoriaMetrics))) return;
  const vm = await new VictoriaMetrics().start();
  t.teardown(() => vm.dispose());
  const scheduler = new ManualScheduler(new ManualClock(T0));
  const store = new Influx2TelemetryStore(influx2Options(vm.url, { batchSize: 8, maxBuffer: 1000, requestTimeoutMs: 2000, scheduler, random: () => 0.5 }));
  await outage(t, vm, store, scheduler, async () => {
    const rs = await readBack(vm, { deviceId: 'd-outage', from: T0, to: T0 + 3_600_000 });
    return rs.sort((a, b) => a.ts - b.ts).map((r) => Math.round((r.value as number) * 10));
  });
});
