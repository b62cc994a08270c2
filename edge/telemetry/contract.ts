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
  /**
   * For a store whose query cannot run against the test's server (InfluxDB 2.x's Flux, tested against
   * VictoriaMetrics): reads what reached the server through the server's own API instead. Only the
   * write half of the suite runs then, and only what `project` keeps is compared.
   */
  readBack?: (q: { deviceId: string; from: number; to: number }) => Promise<Reading[]>;
  /** What of a reading the server keeps (default: all of it); readings it maps to undefined are not compared. */
  project?: (r: Reading) => Reading | undefined;
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
    const project = (rs: Reading[]) => (h.project ? rs.map(h.project).filter((r): r is Reading => r !== undefined) : rs);
    const read = (store: TelemetryStore, q: { deviceId: string; from: number; to: number }) => (h.readBack ? h.readBack(q) : store.query(q));

    await t.test('what is written and flushed reads back equal', async (t) => {
      const store = h.open();
      await store.start();
      t.teardown(() => store.stop());
      const written = sample('c-equal');
      store.write(written);
      await store.flush();
      const back = await read(store, { deviceId: 'c-equal', from: T0, to: T0 + 10_000 });
      t.same(sorted(back), sorted(project(written)));
    });

    await t.test('queries filter by device, point and inclusive time range, earliest first, up to limit', { skip: h.readBack ? 'the query half: not run against this server' : false }, async (t) => {
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
      const want = project(sample('c-batch').slice(0, 3)).length;
      const back = await waitFor('the batch to land', async () => {
        const r = await read(store, { deviceId: 'c-batch', from: T0, to: T0 + 10_000 });
        return r.length === want ? r : undefined;
      });
      t.equal(back.length, want);
    });

    await t.test('stop flushes what is buffered; a new store on the same storage reads it', async (t) => {
      const first = h.open({ flushIntervalMs: 3_600_000 });
      await first.start();
      first.write(sample('c-stop'));
      await first.stop();
      const second = h.open();
      await second.start();
      t.teardown(() => second.stop());
      t.equal((await read(second, { deviceId: 'c-stop', from: T0, to: T0 + 10_000 })).length, project(sample('c-stop')).length);
    });
  });
}
