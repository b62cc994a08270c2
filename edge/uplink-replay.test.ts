// The uplink's replay after an outage: alarms leave before telemetry summaries (and go to their own
// endpoint), and a long backlog is paced to replayRatePerS — counted in batches per simulated second
// on a manual clock, never by timing real time. The cloud is a real HTTP server (test/helpers/alarm-sink).
import t from 'tap';
import { ManualClock } from '../contracts/clock.js';
import { AlarmSink } from '../test/helpers/alarm-sink.js';
import { ManualScheduler } from '../test/helpers/manual-scheduler.js';
import { waitFor } from '../test/helpers/wait.js';
import { silentLogger } from './log.js';
import { item, summary } from './outbox/contract.js';
import { MemoryOutbox } from './outbox/memory.js';
import { Uplink } from './uplink.js';

const T0 = Date.UTC(2026, 6, 1, 8);

t.test('alarms first, then summaries and gap records to /api/v1/telemetry/summaries', async (t) => {
  const sink = await new AlarmSink().start();
  t.teardown(() => sink.stop());
  const outbox = new MemoryOutbox();
  for (let i = 0; i < 3; i++) outbox.put(summary(i));
  for (let i = 0; i < 5; i++) outbox.put(item(i));
  outbox.put({ key: 'gap-1-1', kind: 'gap', payload: { id: 'gap-1-1', dropped: 4, from: T0, to: T0 + 1_200_000, at: T0 + 1, maxBytes: 1000 } });
  const uplink = new Uplink({ url: sink.url, token: 'gse_x', batchSize: 4, outbox, scheduler: new ManualScheduler(), random: () => 1, logger: silentLogger() });
  t.teardown(() => uplink.stop());
  uplink.start();
  await waitFor('the outbox to drain', () => (outbox.depth() === 0 ? true : undefined));
  t.same(sink.order, ['/api/v1/alarms', '/api/v1/alarms', '/api/v1/telemetry/summaries'], 'every alarm went before any telemetry');
  t.same(sink.accepted.map((a) => a.alarmId), [0, 1, 2, 3, 4].map((i) => item(i).payload.alarmId), 'alarms in order');
  t.same(sink.posts.map((p) => p.alarms.length), [4, 1], 'an alarm batch stops where the alarms end');
  t.same(sink.telemetry[0]!.gaps, [{ id: 'gap-1-1', dropped: 4, from: T0, to: T0 + 1_200_000, at: T0 + 1, maxBytes: 1000 }], 'the gap record');
  t.same(sink.telemetry[0]!.summaries.map((s) => s.from), [0, 1, 2].map((i) => summary(i).payload.from), 'with the summaries, oldest first');
});

t.test('a 1,000-alarm backlog replays at replayRatePerS: never more than the rate in one simulated second', async (t) => {
  const sink = await new AlarmSink().start();
  t.teardown(() => sink.stop());
  const clock = new ManualClock(T0);
  const scheduler = new ManualScheduler(clock);
  const outbox = new MemoryOutbox(clock);
  for (let i = 0; i < 1000; i++) outbox.put(item(i));
  const at: number[] = [];
  sink.reply = (post) => {
    at.push(clock.now());
    return { status: 200, body: { accepted: post.alarms.length, duplicates: 0 } };
  };
  const RATE = 100;
  const uplink = new Uplink({ url: sink.url, token: 'gse_x', batchSize: 250, outbox, clock, scheduler, random: () => 1, logger: silentLogger(), replayRatePerS: RATE });
  t.teardown(() => uplink.stop());
  uplink.start();
  // Each time the uplink waits on the clock, let that wait pass; real HTTP happens in between.
  while (outbox.depth() > 0) {
    await waitFor('the uplink to wait or finish', () => (scheduler.pending.length > 0 || outbox.depth() === 0 ? true : undefined));
    if (outbox.depth() > 0) scheduler.fireNext();
  }
  t.same(sink.posts.map((p) => p.alarms.length).filter((n) => n !== RATE), [], `batches are capped at the rate (${RATE}), not batchSize (250)`);
  const perSecond = new Map<number, number>();
  sink.posts.forEach((p, i) => {
    const s = Math.floor((at[i]! - T0) / 1000);
    perSecond.set(s, (perSecond.get(s) ?? 0) + p.alarms.length);
  });
  t.ok([...perSecond.values()].every((n) => n <= RATE), `alarms per simulated second: ${JSON.stringify([...perSecond.values()])}`);
  t.equal(sink.posts.length, 10, '10 batches');
  t.equal(Math.floor((at.at(-1)! - T0) / 1000), 9, 'spread over 10 simulated seconds');
  t.same(sink.accepted.map((a) => a.alarmId), Array.from({ length: 1000 }, (_, i) => item(i).payload.alarmId), 'in order, once each');
});

t.test('without a backlog nothing waits: a lone alarm goes at once', async (t) => {
  const sink = await new AlarmSink().start();
  t.teardown(() => sink.stop());
  const clock = new ManualClock(T0);
  const scheduler = new ManualScheduler(clock);
  const outbox = new MemoryOutbox(clock);
  const uplink = new Uplink({ url: sink.url, token: 'gse_x', batchSize: 100, outbox, clock, scheduler, random: () => 1, logger: silentLogger(), replayRatePerS: 1 });
  t.teardown(() => uplink.stop());
  uplink.start();
  outbox.put(item(1));
  uplink.nudge();
  await waitFor('the first alarm', () => (outbox.depth() === 0 ? true : undefined));
  outbox.put(item(2));
  uplink.nudge();
  // rate 1/s makes batches of 1, each "full": the second alarm waits its second.
  await waitFor('the uplink to pace', () => (scheduler.pending.length > 0 ? true : undefined));
  t.same(scheduler.pending, [1000], 'paced by the rate, on the scheduler');
  scheduler.fireNext();
  await waitFor('the second alarm', () => (outbox.depth() === 0 ? true : undefined));
  t.equal(sink.accepted.length, 2);
});
