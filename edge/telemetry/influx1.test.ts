import t from 'tap';
import { randomBytes } from 'node:crypto';
import { InfluxDB } from 'influx';
import { systemClock } from '../../contracts/clock.js';
import { FlakyProxy } from '../../test/helpers/flaky-proxy.js';
import { ManualScheduler } from '../../test/helpers/manual-scheduler.js';
import { httpOk, INFLUX_URL, needs } from '../../test/helpers/services.js';
import { silentLogger } from '../log.js';
import { systemScheduler } from '../scheduler.js';
import { telemetryContract } from './contract.js';
import { Influx1TelemetryStore, type Influx1Options } from './influx1.js';

const INFLUX = `InfluxDB 1.x at ${INFLUX_URL}`;
const influxUp = () => httpOk(`${INFLUX_URL}/ping`);

function dropDatabase(database: string): Promise<void> {
  const u = new URL(INFLUX_URL);
  return new InfluxDB({ host: u.hostname, port: Number(u.port) }).dropDatabase(database);
}

function options(database: string, o: Partial<Influx1Options> = {}): Influx1Options {
  return {
    url: INFLUX_URL, database, batchSize: 500, flushIntervalMs: 1000, maxBuffer: 10_000,
    clock: systemClock, scheduler: systemScheduler, random: Math.random, logger: silentLogger(), ...o,
  };
}

t.test('influx1', async (t) => {
  if (!(await needs(t, INFLUX, influxUp))) return;
  telemetryContract(t, 'influx1', async () => {
    // A database per run, so runs never see each other's points.
    const database = `gridsense_test_${randomBytes(4).toString('hex')}`;
    return {
      open: (o = {}) => new Influx1TelemetryStore(options(database, { ...(o.batchSize ? { batchSize: o.batchSize } : {}), ...(o.flushIntervalMs ? { flushIntervalMs: o.flushIntervalMs } : {}) })),
      cleanup: () => dropDatabase(database),
    };
  });
});

t.test('InfluxDB down: readings wait in a bounded buffer, then catch up in order', async (t) => {
  if (!(await needs(t, INFLUX, influxUp))) return;
  const database = `gridsense_test_${randomBytes(4).toString('hex')}`;
  t.teardown(() => dropDatabase(database));
  const proxy = await new FlakyProxy(INFLUX_URL).start();
  t.teardown(() => proxy.stop());
  proxy.mode = 'refuse';
  const scheduler = new ManualScheduler();
  const store = new Influx1TelemetryStore(options(database, { url: proxy.url, scheduler, random: () => 1, maxBuffer: 5, batchSize: 2 }));
  await store.start(); // InfluxDB is unreachable: start still succeeds
  t.teardown(() => store.stop());
  const T0 = Date.UTC(2026, 6, 1);
  const reading = (i: number) => ({ deviceId: 'd-outage', point: 'water_level', value: i, unit: 'm', quality: 'good' as const, ts: T0 + i * 1000 });
  store.write([0, 1, 2, 3, 4, 5, 6].map(reading));
  await t.rejects(store.flush(), { code: 'GS_ERR_TELEMETRY_WRITE' });
  t.same(scheduler.pending, [500], 'a retry is scheduled with backoff');

  proxy.mode = 'forward';
  scheduler.fireNext();
  await store.flush();
  const back = await store.query({ deviceId: 'd-outage', from: T0, to: T0 + 60_000 });
  t.same(back.map((r) => r.value), [2, 3, 4, 5, 6], 'the newest 5 (maxBuffer) arrive, in order; the 2 oldest were dropped');
});
