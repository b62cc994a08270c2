// The uplink against a real HTTP server (node:http) that fails, refuses and rejects on cue.
import t, { type Test } from 'tap';
import { AlarmSink } from '../test/helpers/alarm-sink.js';
import { ManualScheduler } from '../test/helpers/manual-scheduler.js';
import { freePort } from '../test/helpers/services.js';
import { waitFor } from '../test/helpers/wait.js';
import { silentLogger } from './log.js';
import { item } from './outbox/contract.js';
import { MemoryOutbox } from './outbox/memory.js';
import type { Outbox } from './outbox/outbox.js';
import { Uplink, type UplinkOptions } from './uplink.js';

const TOKEN = 'gse_test_token';

async function setup(t: Test, o: Partial<UplinkOptions> & { sink?: AlarmSink } = {}) {
  const sink = o.sink ?? (await new AlarmSink().start());
  t.teardown(() => sink.stop());
  const outbox: Outbox = o.outbox ?? new MemoryOutbox();
  // random() = 1: every backoff is its full ceiling, so the sequence is exact.
  const scheduler = new ManualScheduler();
  const uplink = new Uplink({ url: sink.url, token: TOKEN, batchSize: 100, outbox, scheduler, random: () => 1, logger: silentLogger(), ...o });
  t.teardown(() => uplink.stop());
  return { sink, outbox, scheduler, uplink };
}

const ids = (alarms: Array<Record<string, unknown>>) => alarms.map((a) => `${String(a.alarmId)}:${String(a.seq)}`);

t.test('delivers in order with the bearer token, acks, and idles until nudged', async (t) => {
  const { sink, outbox, uplink } = await setup(t, { batchSize: 2 });
  for (let i = 0; i < 5; i++) outbox.put(item(i));
  uplink.start();
  await waitFor('the outbox to drain', () => (outbox.depth() === 0 ? true : undefined));
  t.same(sink.posts.map((p) => p.alarms.length), [2, 2, 1], 'batches of batchSize');
  t.same(ids(sink.accepted), [0, 1, 2, 3, 4].map((i) => `alarm-000${i}:0`), 'in put order');
  t.ok(sink.posts.every((p) => p.authorization === `Bearer ${TOKEN}`));
  outbox.put(item(7));
  uplink.nudge();
  await waitFor('the nudged alarm', () => (outbox.depth() === 0 ? true : undefined));
  t.same(ids(sink.accepted).at(-1), 'alarm-0007:0');
  t.equal(uplink.status().sent, 6);
});

t.test('500s are retried with exponential backoff, in order: nothing lost, nothing duplicated', async (t) => {
  const { sink, outbox, scheduler, uplink } = await setup(t, { batchSize: 3 });
  sink.reply = (post, n) => (n <= 3 ? { status: 500, body: { code: 'GS_ERR_INTERNAL', message: 'db down' } } : { status: 200, body: { accepted: post.alarms.length, duplicates: 0 } });
  for (let i = 0; i < 5; i++) outbox.put(item(i));
  uplink.start();
  const delays = [await scheduler.next(), await scheduler.next()];
  outbox.put(item(5)); // arrives during the outage: queued behind the others
  uplink.nudge(); // must not cut the backoff short
  delays.push(await scheduler.next());
  t.same(delays, [500, 1000, 2000], 'full-jitter ceilings double from 500 ms');
  await waitFor('delivery', () => (outbox.depth() === 0 ? true : undefined));
  t.equal(sink.posts.length, 5, '3 failures, then 2 batches');
  t.same(sink.posts.slice(0, 4).map((p) => ids(p.alarms)[0]), ['alarm-0000:0', 'alarm-0000:0', 'alarm-0000:0', 'alarm-0000:0'], 'never skipped ahead');
  t.same(ids(sink.accepted), [0, 1, 2, 3, 4, 5].map((i) => `alarm-000${i}:0`), 'each accepted exactly once, in order');
  t.equal(uplink.status().failures, 0);
});

t.test('a 400 for one poison alarm: bisected, only it dead-lettered, the rest delivered in order', async (t) => {
  const { sink, outbox, uplink } = await setup(t, { batchSize: 8 });
  const POISON = 'alarm-0005';
  sink.reply = (post) =>
    post.alarms.some((a) => a.alarmId === POISON)
      ? { status: 400, body: { code: 'GS_ERR_VALIDATION', message: 'request failed validation', details: [{ path: '/alarms/0/type', message: 'must match pattern' }] } }
      : { status: 200, body: { accepted: post.alarms.length, duplicates: 0 } };
  for (let i = 0; i < 10; i++) outbox.put(item(i));
  uplink.start();
  await waitFor('the outbox to drain', () => (outbox.depth() === 0 ? true : undefined));
  t.same(ids(sink.accepted), [0, 1, 2, 3, 4, 6, 7, 8, 9].map((i) => `alarm-000${i}:0`), 'everything but the poison, in order, once');
  const dead = outbox.deadLetters();
  t.equal(dead.length, 1);
  t.match(dead[0], { key: `${POISON}:0`, reason: /GS_ERR_VALIDATION/ });
  t.equal(uplink.status().deadLettered, 1);
  t.ok(sink.posts.length <= 8, `${sink.posts.length} requests: bisection, not one by one`);
});

t.test('cloud down entirely: backoff grows to the cap; alarms wait; delivered when it is back', async (t) => {
  const port = await freePort();
  const sink = new AlarmSink();
  sink.url = `http://127.0.0.1:${port}`;
  const { outbox, scheduler, uplink } = await setup(t, { sink, backoff: { baseMs: 500, capMs: 4000 } });
  outbox.put(item(1));
  uplink.start();
  const delays: number[] = [];
  for (let i = 0; i < 5; i++) delays.push(await scheduler.next());
  t.same(delays, [500, 1000, 2000, 4000, 4000], 'capped');
  await waitFor('the sixth attempt to fail', () => (scheduler.pending.length > 0 ? true : undefined));
  t.match(uplink.status(), { failures: 6, lastError: /network/ });
  t.equal(outbox.depth(), 1, 'still queued');
  await sink.start(port);
  await scheduler.next();
  await waitFor('delivery', () => (outbox.depth() === 0 ? true : undefined));
  t.same(ids(sink.accepted), ['alarm-0001:0']);
});

t.test('401: logged loudly, retried at the cap until the token works', async (t) => {
  const errors: string[] = [];
  const logger = { ...silentLogger(), error: (_o: object, msg?: string) => void errors.push(msg ?? '') };
  const { sink, outbox, scheduler, uplink } = await setup(t, { logger: { ...logger, child: () => logger } });
  let tokenKnown = false;
  sink.reply = (post) => (tokenKnown ? { status: 200, body: { accepted: post.alarms.length, duplicates: 0 } } : { status: 401, body: { code: 'GS_ERR_EDGE_UNKNOWN', message: 'edge token is not known' } });
  outbox.put(item(1));
  uplink.start();
  t.equal(await scheduler.next(), 60_000, 'waits at the cap');
  t.equal(await scheduler.next(), 60_000, 'and again');
  t.ok(errors.some((m) => /TOKEN/.test(m)), 'logged at error level');
  await waitFor('the third attempt to be refused', () => (scheduler.pending.length > 0 ? true : undefined));
  tokenKnown = true;
  await scheduler.next();
  await waitFor('delivery', () => (outbox.depth() === 0 ? true : undefined));
  t.equal(sink.accepted.length, 1);
});

t.test('429 honours Retry-After', async (t) => {
  const { sink, outbox, scheduler, uplink } = await setup(t);
  sink.reply = (post, n) => (n === 1 ? { status: 429, headers: { 'retry-after': '7' }, body: {} } : { status: 200, body: { accepted: post.alarms.length, duplicates: 0 } });
  outbox.put(item(1));
  uplink.start();
  t.equal(await scheduler.next(), 7000);
  await waitFor('delivery', () => (outbox.depth() === 0 ? true : undefined));
});

t.test('stop() ends a backoff and leaves no timer behind', async (t) => {
  const port = await freePort();
  const sink = new AlarmSink();
  sink.url = `http://127.0.0.1:${port}`;
  const { outbox, scheduler, uplink } = await setup(t, { sink });
  outbox.put(item(1));
  uplink.start();
  await waitFor('a backoff', () => (scheduler.pending.length > 0 ? true : undefined));
  await uplink.stop();
  t.same(scheduler.pending, []);
  t.equal(outbox.depth(), 1, 'the alarm stays queued for next time');
});
