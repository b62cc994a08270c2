// The one suite both outboxes pass: order, idempotent put, ack, dead letters, batch limits.
import type { Test } from 'tap';
import type { AlarmEnvelope as Envelope } from '../../contracts/alarm.js';
import { alarmKey, type Outbox, type OutboxItem } from './outbox.js';

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

export function item(i: number, seq = 0): OutboxItem {
  const payload = alarm(i, seq);
  return { key: alarmKey(payload), kind: 'alarm', payload, createdAt: payload.ts };
}

export function outboxContract(t: Test, name: string, open: () => { outbox: Outbox; cleanup?: () => void }): void {
  t.test(`${name}: outbox contract`, async (t) => {
    const fresh = (t: Test) => {
      const { outbox, cleanup } = open();
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
      t.same(o.peekBatch(10).map((e) => [e.key, e.payload.value]), [['alarm-0001:0', alarm(1).value], ['alarm-0001:1', alarm(1).value]]);
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

    await t.test('a closed outbox refuses work with GS_ERR_OUTBOX_CLOSED', async (t) => {
      const { outbox, cleanup } = open();
      t.teardown(() => cleanup?.());
      outbox.close();
      t.throws(() => outbox.put(item(1)), { code: 'GS_ERR_OUTBOX_CLOSED' });
      t.throws(() => outbox.peekBatch(1), { code: 'GS_ERR_OUTBOX_CLOSED' });
    });
  });
}
