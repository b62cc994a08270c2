import t from 'tap';
import { CameraFailure } from './failure.js';
import { ProbePool } from './probe-pool.js';
import { factsFrom } from './stream-facts.js';

/** A task the test finishes by hand; records whether it was aborted. */
function manual() {
  let resolve!: (v: string) => void;
  const state = { started: false, aborted: false };
  const task = (signal: AbortSignal) => {
    state.started = true;
    return new Promise<string>((res, rej) => {
      resolve = res;
      signal.addEventListener('abort', () => {
        state.aborted = true;
        rej(new CameraFailure('probe_aborted'));
      });
    });
  };
  return { task, state, finish: (v: string) => resolve(v) };
}

const tick = () => new Promise((r) => setImmediate(r));
/** The CameraFailure reason a promise rejects with ('resolved' when it does not). */
const reasonOf = (p: Promise<unknown>) => p.then(() => 'resolved', (err: { reason?: string; message?: string }) => err.reason ?? err.message);

t.test('at most `concurrency` tasks run; the rest wait in order', async (t) => {
  const pool = new ProbePool({ concurrency: 2 });
  const [a, b, c] = [manual(), manual(), manual()];
  const pa = pool.run('a', a.task);
  const pb = pool.run('b', b.task);
  const pc = pool.run('c', c.task);
  await tick();
  t.same([a.state.started, b.state.started, c.state.started], [true, true, false]);
  t.match(pool.stats(), { running: 2, queued: 1 });
  a.finish('A');
  t.equal(await pa, 'A');
  await tick();
  t.equal(c.state.started, true, 'a freed slot takes the next one');
  b.finish('B');
  c.finish('C');
  t.same(await Promise.all([pb, pc]), ['B', 'C']);
  t.match(pool.stats(), { running: 0, queued: 0, completed: 3 });
});

t.test('a camera already queued or running shares its probe', async (t) => {
  const pool = new ProbePool({ concurrency: 1 });
  const a = manual();
  let second = 0;
  const p1 = pool.run('cam-1', a.task);
  const p2 = pool.run('cam-1', async () => `${++second}`);
  a.finish('once');
  t.same(await Promise.all([p1, p2]), ['once', 'once']);
  t.equal(second, 0, 'the second task never ran');
});

t.test('a full queue refuses with probe_overloaded; a throwing task is a failure, not a crash', async (t) => {
  const pool = new ProbePool({ concurrency: 1, maxQueued: 1 });
  const a = manual();
  const pa = pool.run('a', a.task);
  const pb = pool.run('b', () => {
    throw new Error('sync throw');
  });
  t.equal(await reasonOf(pool.run('c', async () => 'c')), 'probe_overloaded');
  a.finish('A');
  await pa;
  await t.rejects(pb, { message: 'sync throw' });
  t.match(pool.stats(), { completed: 1, failed: 1, refused: 1 });
});

t.test('stop() aborts what runs, refuses what waits and what comes after', async (t) => {
  const pool = new ProbePool({ concurrency: 1 });
  const a = manual();
  const pa = pool.run('a', a.task);
  const pb = pool.run('b', async () => 'b');
  await tick();
  await pool.stop();
  t.equal(a.state.aborted, true);
  t.same(await Promise.all([reasonOf(pa), reasonOf(pb), reasonOf(pool.run('c', async () => 'c'))]), ['probe_aborted', 'probe_aborted', 'probe_aborted']);
});

t.test('stream facts: fps, bitrate and GOP from packets; one keyframe gives no GOP', async (t) => {
  const packets = Array.from({ length: 51 }, (_, i) => ({ pts_time: (i * 0.04).toFixed(6), size: '2500', flags: i % 25 === 0 ? 'K_' : '__' }));
  const f = factsFrom({ streams: [{ codec_name: 'hevc', profile: 'Main', width: 1920, height: 1080, avg_frame_rate: '25/1' }], packets });
  t.match(f, { codec: 'hevc', profile: 'Main', width: 1920, height: 1080, fps: 25, declaredFps: 25, keyframeIntervalS: 1, packets: 51, sampleSeconds: 2 });
  t.equal(f.bitrateKbps, 500, '2500 B × 25/s × 8 = 500 kbit/s');
  const one = factsFrom({ streams: [{ codec_name: 'h264', width: 640, height: 360, avg_frame_rate: '30000/1001' }], packets: packets.slice(0, 20) });
  t.equal(one.keyframeIntervalS, undefined);
  t.equal(one.declaredFps, 29.97);
  t.equal(await reasonOf(Promise.resolve().then(() => factsFrom({ streams: [] }))), 'rtsp_no_video');
});

t.test('a caller\'s signal cancels its own probe: out of the queue, or aborted while it runs', async (t) => {
  const pool = new ProbePool({ concurrency: 1 });
  const a = manual();
  const b = manual();
  const ca = new AbortController();
  const cb = new AbortController();
  const pa = pool.run('a', a.task, { signal: ca.signal });
  const pb = pool.run('b', b.task, { signal: cb.signal });
  await tick();
  cb.abort();
  t.equal(await reasonOf(pb), 'probe_aborted', 'the waiting one leaves the queue');
  t.equal(b.state.started, false, 'and never starts');
  t.match(pool.stats(), { running: 1, queued: 0 });
  ca.abort();
  t.equal(await reasonOf(pa), 'probe_aborted');
  t.equal(a.state.aborted, true, 'the running one got its abort');
  const c = manual();
  const pc = pool.run('c', c.task);
  await tick();
  t.equal(c.state.started, true, 'the pool goes on with the next');
  c.finish('C');
  t.equal(await pc, 'C');
  t.equal(await reasonOf(pool.run('d', async () => 'd', { signal: AbortSignal.abort() })), 'probe_aborted', 'an already aborted signal queues nothing');
});
