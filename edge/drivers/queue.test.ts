import t from 'tap';
import { RefPool } from './pool.js';
import { TurnQueue } from './queue.js';

t.test('tasks take turns: one at a time, in arrival order, a failure does not block the line', async (t) => {
  const q = new TurnQueue();
  const log: string[] = [];
  let running = 0;
  const task = (name: string, fail = false) => async () => {
    running++;
    t.equal(running, 1, `${name} runs alone`);
    log.push(`start ${name}`);
    await new Promise((r) => setImmediate(r));
    log.push(`end ${name}`);
    running--;
    if (fail) throw new Error(name);
    return name;
  };
  const results = await Promise.allSettled([q.run(task('a')), q.run(task('b', true)), q.run(task('c'))]);
  t.same(log, ['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
  t.same(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled']);
  await q.idle();
});

t.test('cancelWaiting rejects what has not started; idle() waits for the running task', async (t) => {
  const q = new TurnQueue();
  let release!: () => void;
  const first = q.run(() => new Promise<string>((r) => (release = () => r('first'))));
  const second = q.run(async () => 'second');
  t.equal(q.length, 1);
  q.cancelWaiting();
  await t.rejects(second, { code: 'GS_ERR_DRIVER_CLOSED' });
  let idle = false;
  const done = q.idle().then(() => (idle = true));
  await new Promise((r) => setImmediate(r));
  t.notOk(idle, 'still running');
  release();
  t.equal(await first, 'first');
  await done;
  t.ok(idle);
});

t.test('a high-priority task goes before waiting normal ones, never before the running one', async (t) => {
  const q = new TurnQueue();
  const log: string[] = [];
  let release!: () => void;
  const task = (name: string) => async () => void log.push(name);
  const running = q.run(() => new Promise<void>((r) => {
    release = () => {
      log.push('poll-1 done');
      r();
    };
  }));
  await new Promise((r) => setImmediate(r));
  const all = [
    running,
    q.run(task('poll-2')),
    q.run(task('poll-3')),
    q.run(task('write-a'), 'high'),
    q.run(task('poll-4')),
    q.run(task('write-b'), 'high'),
  ];
  t.equal(q.length, 5);
  t.same(log, [], 'the running poll is not interrupted');
  release();
  await Promise.all(all);
  t.same(log, ['poll-1 done', 'write-a', 'write-b', 'poll-2', 'poll-3', 'poll-4'], 'writes in arrival order, then the polls in theirs');
});

t.test('a high-priority task on an idle queue starts at once', async (t) => {
  const q = new TurnQueue();
  t.equal(await q.run(async () => 'w', 'high'), 'w');
  t.equal(q.length, 0);
});

t.test('a pooled resource is shared by key and disposed when its last lease is released', async (t) => {
  const disposed: string[] = [];
  const pool = new RefPool<{ name: string }>(async (v) => void disposed.push(v.name));
  const a = pool.acquire('tcp://x:502', () => ({ name: 'link-x' }));
  const b = pool.acquire('tcp://x:502', () => ({ name: 'another' }));
  const c = pool.acquire('tcp://y:502', () => ({ name: 'link-y' }));
  t.equal(a.value, b.value, 'same endpoint, same link');
  t.equal(pool.refs('tcp://x:502'), 2);
  await a.release();
  await a.release();
  t.equal(pool.refs('tcp://x:502'), 1, 'release is idempotent');
  t.same(disposed, []);
  await b.release();
  t.same(disposed, ['link-x']);
  await c.release();
  t.equal(pool.size, 0);
  const again = pool.acquire('tcp://x:502', () => ({ name: 'link-x2' }));
  t.equal(again.value.name, 'link-x2', 'a new link after the old one closed');
  await again.release();
});
