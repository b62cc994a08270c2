// The one suite both outboxes pass: order, idempotent put, ack, dead letters, batch limits, alarms
// before summaries, the disk quota and its overflow policy.
import type { Test } from 'tap';
import type { AlarmEnvelope as Envelope } from '../../contracts/alarm.js';
import { summaryKey, type TelemetrySummary } from '../../contracts/telemetry-summary.js';
import { alarmKey, type Outbox, type OutboxItem, type OutboxOptions } from './outbox.js';

type AlarmItem = Extract<OutboxItem, { kind: 'alarm' }>;
type SummaryItem = Extract<OutboxItem, { kind: 'summary' }>;

export function alarm(i: number, seq = 0): Envelope {
  return {
    alarmId: `alarm-${String(i).padStart(4, '0')}`,
    seq,
    action: seq === 0 ? 'raise' : 'clear',
    type: 'water_level_warning',
    severity: 'major',
    deviceId: 'wl-1',
    point: 'water_level',
    value: 3.5 + i / 100,
    unit: 'm',
    ts: Date.UTC(2026, 6, 1) + i * 1000,
  };
}

export function item(i: number, seq = 0): AlarmItem {
  const payload = alarm(i, seq);
  return { key: alarmKey(payload), kind: 'alarm', payload, createdAt: payload.ts };
}

const PERIOD = 300_000;

/** The summary of period `i` of one device point. */
export function summary(i: number, deviceId = 'wl-1'): SummaryItem {
  const from = Date.UTC(2026, 6, 1) + i * PERIOD;
  const payload: TelemetrySummary = { deviceId, point: 'water_level', from, to: from + PERIOD, count: 30, min: 3.1, max: 3.4, mean: 3.25, last: 3.3, lastTs: from + PERIOD - 10_000, unit: 'm' };
  return { key: summaryKey(payload), kind: 'summary', payload, createdAt: from + PERIOD };
}

export function outboxContract(t: Test, name: string, open: (opts?: OutboxOptions) => { outbox: Outbox; cleanup?: () => void }): void {
  t.test(`${name}: outbox contract`, async (t) => {
    const fresh = (t: Test, opts?: OutboxOptions) => {
      const { outbox, cleanup } = open(opts);
      t.teardown(() => {
        outbox.close();
        cleanup?.();
      });
      return outbox;
    };

    await t.test('entries come back in put order, with increasing seqs and the payload intact', async (t) => {
      const o = fresh(t);
      for (let i = 0; i < 5; i++) o.put(item(i));
      const batch = o.peekBatch(10);
      t.same(batch.map((e) => e.key), ['alarm-0000:0', 'alarm-0001:0', 'alarm-0002:0', 'alarm-0003:0', 'alarm-0004:0']);
      t.ok(batch.every((e, i) => i === 0 || e.seq > batch[i - 1]!.seq), 'seqs increase');
      t.same(batch[2], { seq: batch[2]!.seq, key: 'alarm-0002:0', kind: 'alarm', payload: alarm(2), createdAt: alarm(2).ts });
      t.equal(o.depth(), 5);
    });

    await t.test('peekBatch does not remove; it returns at most n', async (t) => {
      const o = fresh(t);
      for (let i = 0; i < 5; i++) o.put(item(i));
      t.equal(o.peekBatch(2).length, 2);
      t.same(o.peekBatch(2).map((e) => e.key), o.peekBatch(2).map((e) => e.key), 'the same head twice');
      t.same(o.peekBatch(0), []);
      t.equal(o.depth(), 5);
    });

    await t.test('putting the same key twice stores it once', async (t) => {
      const o = fresh(t);
      o.put(item(1));
      o.put(item(1));
      o.put({ ...item(1), payload: { ...alarm(1), value: 9 } });
      o.put(item(1, 1));
      t.equal(o.depth(), 2);
      t.same(o.peekBatch(10).map((e) => [e.key, (e.payload as Envelope).value]), [['alarm-0001:0', alarm(1).value], ['alarm-0001:1', alarm(1).value]]);
    });

    await t.test('ack removes exactly the acked seqs; unknown and repeated acks are harmless', async (t) => {
      const o = fresh(t);
      for (let i = 0; i < 4; i++) o.put(item(i));
      const [a, b, c, d] = o.peekBatch(4);
      o.ack([a!.seq, c!.seq]);
      o.ack([a!.seq, 999_999]);
      t.same(o.peekBatch(10).map((e) => e.seq), [b!.seq, d!.seq]);
      o.put(item(9));
      const after = o.peekBatch(10);
      t.ok(after.at(-1)!.seq > d!.seq, 'a later put gets a later seq');
      o.ack(after.map((e) => e.seq));
      t.equal(o.depth(), 0);
      t.same(o.peekBatch(10), []);
    });

    await t.test('a dead letter leaves the queue and is kept with its reason', async (t) => {
      const o = fresh(t);
      for (let i = 0; i < 3; i++) o.put(item(i));
      const [, poison] = o.peekBatch(3);
      o.deadLetter(poison!.seq, 'GS_ERR_VALIDATION: /alarms/0/type must match pattern');
      o.deadLetter(123_456, 'nothing there');
      t.same(o.peekBatch(10).map((e) => e.key), ['alarm-0000:0', 'alarm-0002:0']);
      const dead = o.deadLetters();
      t.equal(dead.length, 1);
      t.match(dead[0], { seq: poison!.seq, key: 'alarm-0001:0', payload: alarm(1), reason: /GS_ERR_VALIDATION/ });
      t.type(dead[0]!.failedAt, 'number');
    });

    await t.test('alarms and gap records leave before summaries; each kind keeps its put order', async (t) => {
      const o = fresh(t);
      o.put(summary(0));
      o.put(item(0));
      o.putAll([summary(1), summary(2, 'wl-2'), item(1), item(1, 1)]);
      o.put(item(2));
      t.same(o.peekBatch(10).map((e) => e.key), ['alarm-0000:0', 'alarm-0001:0', 'alarm-0001:1', 'alarm-0002:0', summary(0).key, summary(1).key, summary(2, 'wl-2').key]);
      t.same(o.peekBatch(2).map((e) => e.kind), ['alarm', 'alarm'], 'a batch takes the alarms first');
      const [first] = o.peekBatch(1);
      o.ack(o.peekBatch(4).map((e) => e.seq));
      t.same(o.peekBatch(10).map((e) => e.kind), ['summary', 'summary', 'summary'], 'then the summaries');
      t.ok(o.peekBatch(1)[0]!.seq < first!.seq, 'summaries keep the seq they were put with (order is by priority, then seq)');
      o.put(summary(1));
      t.equal(o.depth(), 3, 'a summary key is idempotent too');
      t.match(o.stats(), { depth: 3, alarms: 0, summaries: 3, gaps: 0, overQuota: false, droppedSummaries: 0 });
    });

    await t.test('stats: sizes, counts and the oldest alarm waiting', async (t) => {
      const o = fresh(t);
      t.same(o.stats(), { depth: 0, alarms: 0, summaries: 0, gaps: 0, bytes: 0, maxBytes: Number.MAX_SAFE_INTEGER, overQuota: false, droppedSummaries: 0 });
      o.put(item(3));
      o.put(item(1));
      o.put(summary(0));
      const s = o.stats();
      t.match(s, { depth: 3, alarms: 2, summaries: 1, oldestAlarmAt: alarm(1).ts });
      t.equal(s.bytes, [item(3), item(1), summary(0)].reduce((n, i) => n + Buffer.byteLength(JSON.stringify(i.payload)) + i.key.length, 0), 'bytes: the payloads and keys queued');
      o.ack(o.peekBatch(10).map((e) => e.seq));
      t.match(o.stats(), { depth: 0, bytes: 0 });
      t.notOk('oldestAlarmAt' in o.stats(), 'no alarm waiting: no age');
    });

    await t.test('over the quota the oldest summaries are dropped, never alarms, and a gap record says what went', async (t) => {
      const size = (i: OutboxItem) => Buffer.byteLength(JSON.stringify(i.payload)) + i.key.length;
      // Room for 2 alarms, 4 summaries and the gap record's reserve.
      const maxBytes = size(item(0)) + size(item(1)) + 4 * size(summary(0)) + 256;
      const o = fresh(t, { maxBytes });
      o.putAll([0, 1, 2, 3].map((i) => summary(i)));
      o.put(item(0));
      t.equal(o.stats().gaps, 0, 'within the quota nothing is dropped');
      o.put(item(1));
      o.putAll([summary(4), summary(5)]);
      const kept = o.peekBatch(20);
      const gaps = kept.filter((e) => e.kind === 'gap');
      t.equal(gaps.length, 1, 'one gap record for the put that overflowed');
      t.match(gaps[0]!.payload, { dropped: 2, from: summary(0).payload.from, to: summary(1).payload.to, maxBytes });
      t.same(kept.filter((e) => e.kind === 'alarm').map((e) => e.key), ['alarm-0000:0', 'alarm-0001:0'], 'every alarm kept');
      t.same(kept.filter((e) => e.kind === 'summary').map((e) => e.key), [2, 3, 4, 5].map((i) => summary(i).key), 'the oldest summaries went first');
      t.same(kept.map((e) => e.kind), ['alarm', 'alarm', 'gap', 'summary', 'summary', 'summary', 'summary'], 'the gap record goes with the alarms');
      t.ok(o.stats().bytes <= maxBytes, 'back within the quota');
      t.equal(o.stats().droppedSummaries, 2);
    });

    await t.test('alarms alone over the quota: alarms are still taken, summaries are not, and the refusals are reported', async (t) => {
      const maxBytes = 600;
      const o = fresh(t, { maxBytes });
      for (let i = 0; i < 10; i++) o.put(item(i));
      t.equal(o.stats().alarms, 10, 'no alarm refused or dropped, whatever the quota');
      t.ok(o.stats().overQuota, 'stats say the alarms alone exceed the quota');
      o.putAll([summary(0), summary(1), summary(2)]);
      const after = o.peekBatch(50);
      t.equal(after.filter((e) => e.kind === 'summary').length, 0, 'the summaries put meanwhile were dropped at once');
      const gap = after.find((e) => e.kind === 'gap');
      t.match(gap?.payload, { dropped: 3, from: summary(0).payload.from, to: summary(2).payload.to }, 'and their gap is reported');
      o.ack(after.filter((e) => e.kind === 'alarm').map((e) => e.seq));
      t.notOk(o.stats().overQuota, 'once the alarms are delivered the quota holds again');
      o.put(summary(3));
      t.equal(o.stats().summaries, 1, 'and summaries are queued again');
    });

    await t.test('a closed outbox refuses work with GS_ERR_OUTBOX_CLOSED', async (t) => {
      const { outbox, cleanup } = open();
      t.teardown(() => cleanup?.());
      outbox.close();
      t.throws(() => outbox.put(item(1)), { code: 'GS_ERR_OUTBOX_CLOSED' });
      t.throws(() => outbox.peekBatch(1), { code: 'GS_ERR_OUTBOX_CLOSED' });
    });
  });
}
