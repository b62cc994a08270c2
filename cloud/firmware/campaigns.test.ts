// Campaign waves with an injected clock and random: the canary goes first, the next wave only after
// it ends under the threshold (and the soak time), a wave over the threshold halts everything, pause
// and abort, jitter and the maintenance window in the jobs, timeouts, the edge agent as a target.
import t, { type Test } from 'tap';
import type { FastifyInstance } from 'fastify';
import type { ManualClock } from '../../contracts/clock.js';
import type { FirmwareJob } from '../../contracts/firmware.js';
import { SAMPLE_COUNTY, testCloud } from '../test-support.js';
import { apiKey, call, enrolledEdge, ok } from '../fleet/test-support.js';
import { act, addKey, campaign, finish, gauges, image, jobsOf, keyPair, report, seeded, show, uploaded, type KeyPair } from './test-support.js';

const MIN = 60_000;

interface Fleet {
  app: FastifyInstance;
  clock: ManualClock;
  token: string;
  key: KeyPair;
  artifact: string;
}

async function fleet(t: Test, n = 10, grids?: unknown): Promise<Fleet> {
  const { app, clock, token } = await testCloud(t, grids ? { grids } : {});
  app.firmware.random = seeded(42);
  const key = keyPair();
  await addKey(app, key);
  const artifact = await uploaded(app, key, image(1000));
  await gauges(app, 'town-a', 'wl', n);
  return { app, clock, token, key, artifact };
}

const jobsIn = (app: FastifyInstance, id: string, q: string) => ok<{ items: Array<{ id: string; state: string; wave: number; releasedAt: string | null; notBefore: string | null; reason: { code: string | null } | null }>; nextCursor: string | null }>(call(app, 'GET', `/api/v1/firmware/campaigns/${id}/jobs?${q}`));

t.test('waves: the canary first, the next wave only after it ends and soaks, jitter and window in every job, then completed', async (t) => {
  const { app, clock, token, artifact } = await fleet(t);
  const c = await campaign(app, { artifactId: artifact, waves: [{ share: 0.1 }, { share: 0.5 }, { share: 1 }], jitterMs: MIN, window: { start: '23:00', end: '05:00' }, soakMs: 10 * MIN });
  t.match(c, { state: 'draft', stateLabel: '草稿', currentWave: null, targetKind: 'device', window: { start: '23:00', end: '05:00' } });
  t.same(c.waves.map((w) => w.size), [1, 4, 5], 'cumulative shares of 10: 1, then 4, then 5');
  t.equal(c.counts.pending, 10);
  t.same(await jobsOf(app, token), [], 'a draft releases nothing');

  const offsets: number[] = [];
  const released = async (expected: number): Promise<FirmwareJob[]> => {
    const jobs = await jobsOf(app, token);
    t.equal(jobs.length, expected, `${expected} job(s) released`);
    for (const j of jobs) {
      t.ok(j.notBefore >= clock.now() && j.notBefore < clock.now() + MIN, 'notBefore = wave start + random(0, jitter)');
      offsets.push(j.notBefore - clock.now());
      t.same(j.window, { start: '23:00', end: '05:00' });
      t.equal(j.paused, false);
      t.equal(j.target.kind, 'device');
    }
    return jobs;
  };

  const started = await ok<{ state: string; currentWave: number }>(act(app, c.id, 'start'));
  t.match(started, { state: 'running', currentWave: 0 });
  const [canary] = await released(1);
  t.equal(canary!.artifact.manifest.version, '2.0.0');
  await finish(app, token, canary!.jobId, 'succeeded', true);
  let s = await show(app, c.id);
  t.equal(s.currentWave, 0, 'the canary ended, but it soaks for 10 minutes first');
  t.ok(s.waves[0]!.finishedAt);
  t.same(await jobsOf(app, token), []);

  clock.advance(9 * MIN);
  await app.firmware.sweep();
  t.equal((await show(app, c.id)).currentWave, 0, 'not yet after 9 minutes');
  clock.advance(MIN);
  await app.firmware.sweep();
  t.equal((await show(app, c.id)).currentWave, 1, 'released by the sweep once the soak is over');
  const second = await released(4);
  for (const j of second) await finish(app, token, j.jobId);
  clock.advance(10 * MIN);
  await app.firmware.sweep();
  const third = await released(5);
  t.same((await jobsIn(app, c.id, 'wave=0')).items.map((j) => j.id), [canary!.jobId], 'the canary was the one job of wave 0');
  for (const j of third) await finish(app, token, j.jobId);
  s = await show(app, c.id);
  t.match(s, { state: 'completed', stateLabel: '已完成', counts: { succeeded: 10, total: 10 } });
  t.same(s.waves.map((w) => w.counts.succeeded), [1, 4, 5]);
  t.ok(new Set(offsets).size > 5, 'jitter spreads the starts');
  t.same(await jobsOf(app, token), [], 'nothing left to do');
});

t.test('a wave over the failure threshold halts the campaign; nothing more is released; an admin may resume past it', async (t) => {
  const { app, token, artifact } = await fleet(t);
  const c = await campaign(app, { artifactId: artifact, waves: [{ share: 0.1 }, { share: 0.5 }, { share: 1 }], failureThreshold: 0.2, start: true });
  const [canary] = await jobsOf(app, token);
  await finish(app, token, canary!.jobId);
  const wave2 = await jobsOf(app, token);
  t.equal(wave2.length, 4, 'no soak: the next wave follows the canary at once');
  await finish(app, token, wave2[0]!.jobId, 'failed');
  let s = await show(app, c.id);
  t.match(s, { state: 'halted', stateLabel: '已熔断', haltedReason: /wave 2: 1 of 4 job\(s\) failed, over the threshold of 20%/ });
  t.same(s.failureReasons, [{ code: 'GS_ERR_FIRMWARE_CHECKSUM', count: 1, example: 'image damaged on the RS-485 hop' }]);
  t.equal(s.waves[1]!.failureRate, 0.25);
  const rest = await jobsOf(app, token);
  t.equal(rest.length, 3, 'the wave under way stays listed…');
  t.ok(rest.every((j) => j.paused), '…flagged paused: start nothing new');
  for (const j of rest) await finish(app, token, j.jobId);
  await app.firmware.sweep();
  s = await show(app, c.id);
  t.equal(s.state, 'halted', 'the rest of the wave succeeding does not undo the halt');
  t.ok((await jobsIn(app, c.id, 'wave=2')).items.every((j) => j.state === 'pending' && j.releasedAt === null), 'the last wave was never released');
  t.same(await jobsOf(app, token), []);

  const tech = await apiKey(app, 'technician');
  t.equal((await act(app, c.id, 'resume', { as: tech, body: {} })).statusCode, 403, 'a technician cannot resume a halted campaign');
  const plain = await act(app, c.id, 'resume', { body: {} });
  t.equal(plain.statusCode, 409, 'an admin must say so');
  t.equal(plain.json<{ code: string }>().code, 'GS_ERR_FIRMWARE_CAMPAIGN_STATE');
  const resumed = await ok<{ state: string; currentWave: number }>(act(app, c.id, 'resume', { body: { overrideHalt: true } }));
  t.match(resumed, { state: 'running', currentWave: 2 }, "the halted wave's failures are accepted; the last wave goes out");
  t.equal((await jobsOf(app, token)).length, 5);
});

t.test('pause stops releasing and flags jobs paused; resume releases; abort cancels what has not started', async (t) => {
  const { app, token, artifact } = await fleet(t);
  const c = await campaign(app, { artifactId: artifact, waves: [{ share: 0.1 }, { share: 1 }], start: true });
  const [canary] = await jobsOf(app, token);
  await ok(report(app, token, canary!.jobId, 'downloading', { bytes: 100 }));
  t.equal((await ok<{ state: string }>(act(app, c.id, 'pause'))).state, 'paused');
  t.equal((await act(app, c.id, 'pause')).statusCode, 409, 'pausing twice');
  const paused = await jobsOf(app, token);
  t.same(paused.map((j) => [j.jobId, j.paused, j.state]), [[canary!.jobId, true, 'downloading']]);
  await ok(report(app, token, canary!.jobId, 'installing'));
  await ok(report(app, token, canary!.jobId, 'succeeded'));
  await app.firmware.sweep();
  t.equal((await show(app, c.id)).currentWave, 0, 'paused: the canary ended, nothing more is released');
  t.equal((await jobsIn(app, c.id, 'state=pending&limit=500')).items.filter((j) => j.releasedAt !== null).length, 0);

  const resumed = await ok<{ state: string; currentWave: number }>(act(app, c.id, 'resume'));
  t.match(resumed, { state: 'running', currentWave: 1 });
  const wave2 = await jobsOf(app, token);
  t.equal(wave2.length, 9);
  t.ok(wave2.every((j) => !j.paused));
  for (const j of wave2.slice(0, 2)) await ok(report(app, token, j.jobId, 'downloading'));

  t.equal((await ok<{ state: string }>(act(app, c.id, 'abort'))).state, 'aborted');
  const s = await show(app, c.id);
  t.match(s.counts, { succeeded: 1, downloading: 2, cancelled: 7, pending: 0 });
  const left = await jobsOf(app, token);
  t.same(left.map((j) => [j.state, j.paused]), [['downloading', true], ['downloading', true]], 'jobs under way may finish, flagged paused');
  await ok(report(app, token, left[0]!.jobId, 'succeeded'));
  t.equal((await act(app, c.id, 'abort')).statusCode, 409, 'aborting twice');
  t.equal((await act(app, c.id, 'resume')).statusCode, 409, 'no resuming an aborted campaign');
  const page1 = await jobsIn(app, c.id, 'state=cancelled&limit=4');
  const page2 = await jobsIn(app, c.id, `state=cancelled&limit=4&cursor=${page1.nextCursor}`);
  t.equal(page1.items.length + page2.items.length, 7, 'cursor paging over the cancelled jobs');
  t.equal(page2.nextCursor, null);
  t.equal(new Set([...page1.items, ...page2.items].map((j) => j.id)).size, 7);
});

t.test('a job with no outcome times out and counts as failed; the edge agent itself can be updated', async (t) => {
  const { app, clock, token, key } = await fleet(t, 3);
  const timed = await uploaded(app, key, image(500, 3), { version: '3.0.0' });
  const c = await campaign(app, { artifactId: timed, waves: [{ share: 0.3 }, { share: 1 }], jobTimeoutMs: MIN, start: true });
  clock.advance(MIN + 1);
  await app.firmware.sweep();
  const s = await show(app, c.id);
  t.match(s, { state: 'halted', failureReasons: [{ code: 'GS_ERR_FIRMWARE_JOB_TIMEOUT', count: 1 }] });
  t.same(await jobsOf(app, token), [], 'the timed-out job is gone from the edge');

  const b = await enrolledEdge(app, 'town-b');
  await enrolledEdge(app, 'town-c');
  await ok(call(app, 'DELETE', '/api/v1/edges/town-c'));
  const agent = await uploaded(app, key, image(800, 5), { version: '0.2.0', profiles: ['gridsense-edge'] });
  const bad = await call(app, 'POST', '/api/v1/firmware/campaigns', { body: { artifactId: agent, target: { tags: ['flood'] } } });
  t.equal(bad.statusCode, 400, 'the edge agent is selected by edges and towns only');
  const e = await campaign(app, { artifactId: agent, waves: [{ share: 1 }], start: true });
  t.match(e, { targetKind: 'edge', counts: { total: 2 } }, 'one job per live edge (town-c is revoked)');
  const mine = await jobsOf(app, b);
  t.same(mine.map((j) => j.target), [{ kind: 'edge' }]);
  t.equal(mine[0]!.artifact.manifest.profiles[0], 'gridsense-edge');
  await finish(app, b, mine[0]!.jobId);
  const [own] = (await jobsOf(app, token)).filter((j) => j.campaignId === e.id);
  await finish(app, token, own!.jobId);
  t.equal((await show(app, e.id)).state, 'completed');
});

t.test('bad campaigns are refused with stable codes; roles', async (t) => {
  const { app, key, artifact } = await fleet(t, 3, SAMPLE_COUNTY);
  const create = (body: Record<string, unknown>, as?: string) => call(app, 'POST', '/api/v1/firmware/campaigns', { body, ...(as ? { as } : {}) });
  const code = async (p: ReturnType<typeof create>) => (await p).json<{ code: string }>().code;
  t.equal(await code(create({ artifactId: artifact, target: { towns: ['nowhere'] } })), 'GS_ERR_FIRMWARE_NO_TARGETS');
  t.equal(await code(create({ artifactId: artifact, waves: [{ share: 0.5 }, { share: 0.4 }, { share: 1 }] })), 'GS_ERR_VALIDATION', 'shares must grow');
  t.equal(await code(create({ artifactId: artifact, waves: [{ share: 0.5 }] })), 'GS_ERR_VALIDATION', 'the last wave must reach 1');
  t.equal(await code(create({ artifactId: artifact, window: { start: '25:00', end: '05:00' } })), 'GS_ERR_VALIDATION');
  t.equal(await code(create({ artifactId: artifact, failureThreshold: 2 })), 'GS_ERR_VALIDATION');
  t.equal(await code(create({ artifactId: 'NOPE' })), 'GS_ERR_VALIDATION');
  const named = await create({ artifactId: artifact, target: { devices: ['wl-01', 'ghost-1'] } });
  t.equal(named.statusCode, 400);
  t.match(named.json(), { details: [{ path: '/target/devices/ghost-1', message: 'no such device' }] });
  t.match((await ok<{ counts: { total: number } }>(create({ artifactId: artifact, target: { devices: ['wl-01', 'wl-03'] } }))).counts, { total: 2 });

  const auditor = await apiKey(app, 'auditor');
  t.equal((await create({ artifactId: artifact }, auditor)).statusCode, 403, 'an auditor cannot create a campaign');
  t.equal((await call(app, 'GET', '/api/v1/firmware/campaigns', { as: auditor })).statusCode, 403);
  const townTech = await apiKey(app, 'technician', 'qingquan');
  t.equal((await create({ artifactId: artifact }, townTech)).statusCode, 403, "a town's key does not roll out firmware");
  const tech = await apiKey(app, 'technician');
  const c = await campaign(app, { artifactId: artifact, name: 'gauges 2.0.0' }, tech);
  t.equal((await act(app, c.id, 'start', { as: tech })).statusCode, 200, 'a technician starts it');
  t.equal((await act(app, c.id, 'start')).statusCode, 409, 'starting twice');
  t.equal((await act(app, 'NOPE', 'pause')).statusCode, 404);
  const list = await ok<{ items: Array<{ id: string; state: string }> }>(call(app, 'GET', '/api/v1/firmware/campaigns?state=running', { as: tech }));
  t.same(list.items.map((i) => i.id), [c.id]);

  await ok(call(app, 'DELETE', `/api/v1/firmware/keys/${key.keyId}`));
  t.equal(await code(create({ artifactId: artifact })), 'GS_ERR_FIRMWARE_SIGNATURE', 'no new campaign for an image whose key was revoked');
});
