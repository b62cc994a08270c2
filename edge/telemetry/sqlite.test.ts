import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock, systemClock } from '../../contracts/clock.js';
import { ManualScheduler } from '../../test/helpers/manual-scheduler.js';
import { silentLogger } from '../log.js';
import { systemScheduler } from '../scheduler.js';
import { telemetryContract } from './contract.js';
import { SqliteTelemetryStore } from './sqlite.js';

const DAY = 86_400_000;

telemetryContract(t, 'sqlite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gs-telemetry-'));
  return {
    open: (o = {}) =>
      new SqliteTelemetryStore({
        file: join(dir, 'telemetry.db'), retentionMs: 3650 * DAY, batchSize: o.batchSize ?? 500, flushIntervalMs: o.flushIntervalMs ?? 1000,
        maxBuffer: 10_000, clock: systemClock, scheduler: systemScheduler, random: Math.random, logger: silentLogger(),
      }),
    cleanup: async () => rmSync(dir, { recursive: true, force: true }),
  };
});

t.test('readings older than the retention are pruned on the prune interval', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'gs-telemetry-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const clock = new ManualClock(Date.UTC(2026, 0, 10));
  const scheduler = new ManualScheduler(clock);
  const store = new SqliteTelemetryStore({
    file: join(dir, 'telemetry.db'), retentionMs: 7 * DAY, batchSize: 500, flushIntervalMs: 1000, maxBuffer: 10_000,
    clock, scheduler, random: () => 0.5, logger: silentLogger(), pruneIntervalMs: 3_600_000,
  });
  await store.start();
  t.teardown(() => store.stop());
  const now = clock.now();
  store.write([
    { deviceId: 'd', point: 'p', value: 1, quality: 'good', ts: now - 8 * DAY },
    { deviceId: 'd', point: 'p', value: 2, quality: 'good', ts: now - 6 * DAY },
    { deviceId: 'd', point: 'p', value: 3, quality: 'good', ts: now },
  ]);
  await store.flush();
  const all = () => store.query({ from: 0, to: Number.MAX_SAFE_INTEGER });
  t.equal((await all()).length, 3, 'nothing pruned before the interval');
  scheduler.advance(3_600_000);
  t.same((await all()).map((r) => r.value), [2, 3], 'the 8-day-old reading is gone');
  scheduler.advance(DAY);
  t.same((await all()).map((r) => r.value), [3], 'a day later the 6-day-old one ages out too');
  await store.stop();
  t.same(scheduler.pending, [], 'stop cleared the flush and prune timers');
});
