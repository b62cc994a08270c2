import t from 'tap';
import { ManualClock } from '../contracts/clock.js';
import type { Reading } from '../contracts/reading.js';
import type { TelemetrySummary } from '../contracts/telemetry-summary.js';
import { ManualScheduler } from '../test/helpers/manual-scheduler.js';
import { silentLogger } from './log.js';
import { MemoryOutbox } from './outbox/memory.js';
import { Summariser } from './summaries.js';

const T0 = Date.UTC(2026, 6, 1, 8, 0, 0);
const MIN = 60_000;
const r = (deviceId: string, point: string, value: Reading['value'], ts: number, quality: Reading['quality'] = 'good'): Reading => ({ deviceId, point, value, unit: 'm', quality, ts });

t.test('each device point per period: min, max, mean, last, count; emitted when the period ends', async (t) => {
  const clock = new ManualClock(T0 + 30_000);
  const scheduler = new ManualScheduler(clock);
  const outbox = new MemoryOutbox(clock);
  const s = new Summariser({ everyMs: 5 * MIN, clock, scheduler, logger: silentLogger(), emit: (items) => outbox.putAll(items) });
  s.start();
  t.teardown(() => s.stop());
  s.observe([r('wl-1', 'level', 3.0, T0 + 30_000), r('wl-1', 'ok', true, T0 + 30_000), r('wl-2', 'level', 1.5, T0 + 40_000)]);
  s.observe([r('wl-1', 'level', null, T0 + 60_000, 'bad'), r('wl-1', 'level', 3.6, T0 + 90_000), r('wl-1', 'level', 3.3, T0 + 4 * MIN)]);
  s.observe([r('wl-1', 'level', 9.9, T0 + 5 * MIN)]); // the next period
  t.equal(outbox.depth(), 0, 'nothing before the period ends');
  t.same(scheduler.pending, [4.5 * MIN], 'the timer is at the period end');
  scheduler.advance(4.5 * MIN);
  const sent = outbox.peekBatch(10).map((e) => e.payload as TelemetrySummary);
  t.same(sent, [
    { deviceId: 'wl-1', point: 'level', from: T0, to: T0 + 5 * MIN, count: 3, min: 3.0, max: 3.6, mean: (3.0 + 3.6 + 3.3) / 3, last: 3.3, lastTs: T0 + 4 * MIN, unit: 'm' },
    { deviceId: 'wl-2', point: 'level', from: T0, to: T0 + 5 * MIN, count: 1, min: 1.5, max: 1.5, mean: 1.5, last: 1.5, lastTs: T0 + 40_000, unit: 'm' },
  ], 'numeric good readings only; the next period waits');
  t.ok(outbox.peekBatch(10).every((e) => e.kind === 'summary'));
  scheduler.advance(5 * MIN);
  t.same(outbox.peekBatch(10).map((e) => (e.payload as TelemetrySummary).from), [T0, T0, T0 + 5 * MIN], 'the second period followed');
  s.stop();
  t.same(scheduler.pending, [], 'stop clears the timer');
});
