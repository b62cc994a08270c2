// The one suite every TelemetryStore passes (aedes-persistence's habit): what goes in comes back out.
import type { Test } from 'tap';
import type { Reading } from '../../contracts/reading.js';
import { waitFor } from '../../test/helpers/wait.js';
import type { TelemetryStore } from './store.js';

export interface TelemetryHarness {
  /** A store on the harness's storage; every call opens the same storage, so a second store sees the first's data. */
  open(opts?: { batchSize?: number; flushIntervalMs?: number }): TelemetryStore;
  /** Removes the storage (temp dir, test database). */
  cleanup(): Promise<void>;
}

const T0 = Date.UTC(2026, 6, 1, 8, 0, 0);

function sample(device: string): Reading[] {
  return [
    { deviceId: device, point: 'water_level', value: 3.8, unit: 'm', quality: 'good', ts: T0 },
    { deviceId: device, point: 'signal_fault', value: true, quality: 'good', ts: T0 },
    { deviceId: device, point: 'label', value: 'RWL-20 水位计', quality: 'good', ts: T0 },
    { deviceId: device, point: 'water_level', value: null, unit: 'm', quality: 'bad', reason: 'out_of_range', ts: T0 + 1000 },
    { deviceId: device, point: 'supply_voltage', value: null, quality: 'bad', reason: 'timeout', ts: T0 + 1000 },
    { deviceId: device, point: 'water_level', value: 3.75, unit: 'm', quality: 'stale', ts: T0 + 2000 },
    { deviceId: device, point: 'water_level', value: -0.125, unit: 'm', quality: 'good', ts: T0 + 3001 },
    { deviceId: device, point: 'signal_fault', value: false, quality: 'good', ts: T0 + 3001 },
  ];
}

const sortKey = (r: Reading) => `${r.ts}|${r.deviceId}|${r.point}`;
const sorted = (rs: Reading[]) => [...rs].sort((a, b) => sortKey(a).localeCompare(sortKey(b)));

export function telemetryContract(t: Test, name: string, makeHarness: () => Promise<TelemetryHarness>): void {
  t.test(`${name}: telemetry store contract`, async (t) => {
    const h = await makeHarness();
    t.teardown(() => h.cleanup());

    await t.test('what is written and flushed reads back equal', async (t) => {
      const store = h.open();
      await store.start();
      t.teardown(() => store.stop());
      const written = sample('c-equal');
      store.write(written);
      await store.flush();
      const back = await store.query({ deviceId: 'c-equal', from: T0, to: T0 + 10_000 });
      t.same(sorted(back), sorted(written));
    });

    await t.test('queries filter by device, point and inclusive time range, earliest first, up to limit', async (t) => {
      const store = h.open();
      await store.start();
      t.teardown(() => store.stop());
      store.write([...sample('c-filter-a'), ...sample('c-filter-b')]);
      await store.flush();
      const a = await store.query({ deviceId: 'c-filter-a', from: T0, to: T0 + 10_000 });
      t.ok(a.length === 8 && a.every((r) => r.deviceId === 'c-filter-a'), 'by device');
      const level = await store.query({ deviceId: 'c-filter-a', point: 'water_level', from: T0, to: T0 + 10_000 });
      t.same(level.map((r) => r.ts), [T0, T0 + 1000, T0 + 2000, T0 + 3001], 'by point, in time order');
      const window = await store.query({ deviceId: 'c-filter-a', from: T0 + 1000, to: T0 + 2000 });
      t.same(window.map((r) => r.ts).sort(), [T0 + 1000, T0 + 1000, T0 + 2000], 'from and to are inclusive');
      const first = await store.query({ deviceId: 'c-filter-b', point: 'water_level', from: T0, to: T0 + 10_000, limit: 2 });
      t.same(first.map((r) => r.ts), [T0, T0 + 1000], 'limit keeps the earliest');
      t.same(await store.query({ deviceId: 'c-filter-nobody', from: T0, to: T0 + 10_000 }), []);
    });

    await t.test('a full batch is written without an explicit flush', async (t) => {
      const store = h.open({ batchSize: 3, flushIntervalMs: 3_600_000 });
      await store.start();
      t.teardown(() => store.stop());
      store.write(sample('c-batch').slice(0, 3));
      const back = await waitFor('the batch to land', async () => {
        const r = await store.query({ deviceId: 'c-batch', from: T0, to: T0 + 10_000 });
        return r.length === 3 ? r : undefined;
      });
      t.equal(back.length, 3);
    });

    await t.test('stop flushes what is buffered; a new store on the same storage reads it', async (t) => {
      const first = h.open({ flushIntervalMs: 3_600_000 });
      await first.start();
      first.write(sample('c-stop'));
      await first.stop();
      const second = h.open();
      await second.start();
      t.teardown(() => second.stop());
      t.equal((await second.query({ deviceId: 'c-stop', from: T0, to: T0 + 10_000 })).length, 8);
    });
  });
}
