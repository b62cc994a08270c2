// The edge's side: the per-edge in-flight cap, reports (illegal moves 409, repeats idempotent,
// another edge's job 404), revoked edges 401, and the long-poll answering at a release or a pause.
import t from 'tap';
import type { FirmwareJob } from '../../contracts/firmware.js';
import { waitFor } from '../../test/helpers/wait.js';
import { testCloud } from '../test-support.js';
import { call, enrolledEdge, ok } from '../fleet/test-support.js';
import { act, addKey, campaign, finish, gauges, image, jobsOf, keyPair, report, seeded, uploaded } from './test-support.js';

t.test('at most maxInFlightPerEdge jobs of a campaign per edge: under way first, the next when one ends', async (t) => {
  const { app, token } = await testCloud(t);
  app.firmware.random = seeded(1);
  const key = keyPair();
  await addKey(app, key);
  const artifact = await uploaded(app, key, image(300));
  await gauges(app, 'town-a', 'wl', 5);
  const b = await enrolledEdge(app, 'town-b');
  await gauges(app, 'town-b', 'wb', 3);
  await campaign(app, { artifactId: artifact, waves: [{ share: 1 }], maxInFlightPerEdge: 2, jitterMs: 30_000, start: true });

  const first = await jobsOf(app, token);
  t.equal(first.length, 2, 'town-a is offered 2 of its 5');
  t.ok(first[0]!.notBefore <= first[1]!.notBefore, 'the earliest first');
  t.equal((await jobsOf(app, b)).length, 2, 'each edge has its own cap');
  await ok(report(app, token, first[1]!.jobId, 'downloading'));
  const under = await jobsOf(app, token);
  t.same(under.map((j) => j.jobId).sort(), first.map((j) => j.jobId).sort(), 'one under way and one waiting: still the same two');
  t.equal(under[0]!.state, 'downloading', 'jobs under way come first');
  await finish(app, token, first[1]!.jobId);
  const next = await jobsOf(app, token);
  t.equal(next.length, 2);
  t.notOk(next.some((j) => j.jobId === first[1]!.jobId), 'the finished job is gone…');
  t.ok(next.some((j) => j.jobId === first[0]!.jobId), '…and a new one took its place');
  const done = new Set<string>();
  for (let i = 0; i < 10; i++) {
    const jobs = await jobsOf(app, token);
    if (jobs.length === 0) break;
    t.ok(jobs.length <= 2);
    for (const j of jobs) {
      await finish(app, token, j.jobId);
      done.add(j.jobId);
    }
  }
  t.equal(done.size, 4, 'the other four went through two at a time');
});

t.test('reports: legal moves, repeats, illegal moves 409, not released 409, another edge 404, revoked edge 401', async (t) => {
  const { app, token } = await testCloud(t);
  const key = keyPair();
  await addKey(app, key);
  const artifact = await uploaded(app, key, image(300));
  await gauges(app, 'town-a', 'wl', 4);
  const b = await enrolledEdge(app, 'town-b');
  const c = await campaign(app, { artifactId: artifact, waves: [{ share: 0.25 }, { share: 1 }], start: true });
  const [job] = await jobsOf(app, token);
  const id = job!.jobId;
  const code = async (p: ReturnType<typeof report>) => {
    const r = await p;
    return [r.statusCode, r.json<{ code?: string }>().code];
  };

  const first = await ok<FirmwareJob>(report(app, token, id, 'downloading', { bytes: 100 }));
  t.match(first, { jobId: id, state: 'downloading', campaignId: c.id, paused: false });
  await ok(report(app, token, id, 'downloading', { bytes: 200 }));
  const progress = await ok<{ items: Array<{ id: string; bytes: number | null; state: string }> }>(call(app, 'GET', `/api/v1/firmware/campaigns/${c.id}/jobs?state=downloading`));
  t.match(progress.items, [{ id, bytes: 200 }], 'the same state again is a progress report');
  await ok(report(app, token, id, 'installing'));
  t.same(await code(report(app, token, id, 'downloading')), [409, 'GS_ERR_FIRMWARE_JOB_STATE'], 'no going back');
  t.same(await code(report(app, token, id, 'pending')), [409, 'GS_ERR_FIRMWARE_JOB_STATE']);
  await ok(report(app, token, id, 'succeeded', { runningVersion: '2.0.0' }));
  t.equal((await report(app, token, id, 'succeeded')).statusCode, 200, 'succeeded twice: idempotent');
  t.same(await code(report(app, token, id, 'failed')), [409, 'GS_ERR_FIRMWARE_JOB_STATE'], 'nothing out of a finished state');

  t.same(await code(report(app, b, id, 'downloading')), [404, 'GS_ERR_FIRMWARE_JOB_NOT_FOUND'], "another edge's job");
  t.same(await code(report(app, token, 'NOSUCHJOB', 'downloading')), [404, 'GS_ERR_FIRMWARE_JOB_NOT_FOUND']);
  t.same(await code(report(app, token, id, 'rebooting' as 'pending')), [400, 'GS_ERR_VALIDATION'], 'an unknown state');

  // A job of a wave not yet released: the edge cannot know it, but a report of it is refused all the same.
  const c2 = await campaign(app, { artifactId: artifact, waves: [{ share: 0.25 }, { share: 1 }] });
  const draft = await ok<{ items: Array<{ id: string; edgeId: string }> }>(call(app, 'GET', `/api/v1/firmware/campaigns/${c2.id}/jobs`));
  t.same(await code(report(app, token, draft.items[0]!.id, 'downloading')), [409, 'GS_ERR_FIRMWARE_JOB_STATE'], 'not released yet');

  await ok(call(app, 'DELETE', '/api/v1/edges/town-a'));
  t.equal((await call(app, 'GET', '/api/v1/edges/firmware/jobs', { as: token })).statusCode, 401, 'a revoked edge is refused');
  t.equal((await report(app, token, id, 'succeeded')).statusCode, 401);
  t.equal((await call(app, 'GET', job!.artifact.downloadPath, { as: token })).statusCode, 401);
});

t.test('long-poll: answers at a release, a pause, a revocation; 304 when nothing changed', async (t) => {
  const { app, token } = await testCloud(t);
  const key = keyPair();
  await addKey(app, key);
  const artifact = await uploaded(app, key, image(300));
  await gauges(app, 'town-a', 'wl', 2);
  const c = await campaign(app, { artifactId: artifact, waves: [{ share: 1 }] });
  const poll = (q: string, headers: Record<string, string> = {}) => call(app, 'GET', `/api/v1/edges/firmware/jobs${q}`, { as: token, headers });

  // Nothing to do and no ETag: it waits until there is something.
  const idle = poll('?wait=20');
  await waitFor('the long-poll to wait', () => (app.firmware.watch.waiting === 1 ? true : undefined));
  await ok(act(app, c.id, 'start'));
  const released = await idle;
  t.equal(released.statusCode, 200);
  t.equal(released.json<{ jobs: unknown[] }>().jobs.length, 2, 'answered with the released jobs');
  const etag = released.headers.etag as string;
  t.match(etag, /^"\d+"$/);

  const same = await poll('', { 'if-none-match': etag });
  t.equal(same.statusCode, 304, 'the ETag still names the list');

  const waiting = poll('?wait=20', { 'if-none-match': etag });
  await waitFor('the long-poll to wait', () => (app.firmware.watch.waiting === 1 ? true : undefined));
  await ok(act(app, c.id, 'pause'));
  const paused = await waiting;
  t.equal(paused.statusCode, 200);
  t.ok(paused.json<{ jobs: FirmwareJob[] }>().jobs.every((j) => j.paused), 'answered at the pause, every job flagged');
  t.not(paused.headers.etag, etag);

  const revoked = poll('?wait=20', { 'if-none-match': paused.headers.etag as string });
  await waitFor('the long-poll to wait', () => (app.firmware.watch.waiting === 1 ? true : undefined));
  await ok(call(app, 'DELETE', '/api/v1/edges/town-a'));
  t.equal((await revoked).statusCode, 401, 'a revoked edge is cut off while it waits');
});
