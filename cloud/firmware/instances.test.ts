// Two cloud instances on one database: an edge long-polling one instance hears of a change made
// through the other; and (PostgreSQL, where the races exist) concurrent reports and sweeps move a
// campaign exactly once — one outcome per job, one release per wave, one halt.
import t, { type Test } from 'tap';
import type { FastifyInstance } from 'fastify';
import { ManualClock } from '../../contracts/clock.js';
import { buildCloud } from '../app.js';
import { ADMIN, createEdgeToken, TEST_PG, testDatabase } from '../test-support.js';
import { call, ok } from '../fleet/test-support.js';
import { waitFor } from '../../test/helpers/wait.js';
import { act, addKey, campaign, gauges, image, jobsOf, keyPair, report, seeded, show, uploaded } from './test-support.js';

async function twoInstances(t: Test): Promise<{ a: FastifyInstance; b: FastifyInstance; token: string; artifact: string }> {
  const prior = process.env.GRIDSENSE_FIRMWARE_POLL_MS;
  process.env.GRIDSENSE_FIRMWARE_POLL_MS = '100';
  t.teardown(() => {
    if (prior === undefined) delete process.env.GRIDSENSE_FIRMWARE_POLL_MS;
    else process.env.GRIDSENSE_FIRMWARE_POLL_MS = prior;
  });
  const db = await testDatabase(t, { shared: true });
  const clock = new ManualClock(Date.UTC(2026, 6, 1, 8));
  const opts = { db, clock, adminToken: ADMIN, logger: false, supervisionMs: 0, feedPollMs: 0, webhookWorkerMs: 0 };
  const a = await buildCloud(opts);
  t.teardown(() => a.close());
  const b = await buildCloud(opts);
  t.teardown(() => b.close());
  a.firmware.random = seeded(3);
  const token = await createEdgeToken(a, 'town-a');
  const key = keyPair();
  await addKey(a, key);
  const artifact = await uploaded(a, key, image(400));
  await gauges(a, 'town-a', 'wl', 8);
  return { a, b, token, artifact };
}

t.test('a long-poll on one instance answers a pause made through the other', async (t) => {
  const { a, b, token, artifact } = await twoInstances(t);
  const c = await campaign(a, { artifactId: artifact, waves: [{ share: 1 }], start: true });
  const first = await call(b, 'GET', '/api/v1/edges/firmware/jobs', { as: token });
  const polling = call(b, 'GET', '/api/v1/edges/firmware/jobs?wait=20', { as: token, headers: { 'if-none-match': first.headers.etag as string } });
  await waitFor('the long-poll to wait on b', () => (b.firmware.watch.waiting === 1 ? true : undefined));
  await ok(act(a, c.id, 'pause'));
  const res = await polling;
  t.equal(res.statusCode, 200);
  t.ok(res.json<{ jobs: Array<{ paused: boolean }> }>().jobs.every((j) => j.paused), 'b serves what a changed');
});

t.test('concurrent reports and sweeps through two instances: one outcome, one release, one halt', { skip: TEST_PG ? false : 'PostgreSQL only: SQLite runs one writer at a time (GRIDSENSE_TEST_PG)' }, async (t) => {
  const { a, b, token, artifact } = await twoInstances(t);
  const c = await campaign(a, { artifactId: artifact, waves: [{ share: 0.25 }, { share: 0.75 }, { share: 1 }], failureThreshold: 0.2, start: true });
  const canary = await jobsOf(a, token);
  t.equal(canary.length, 2);
  await ok(report(a, token, canary[0]!.jobId, 'installing'));
  // The same job ends both ways at once: exactly one report wins.
  const both = await Promise.all([report(a, token, canary[0]!.jobId, 'succeeded'), report(b, token, canary[0]!.jobId, 'failed', { reason: { code: 'X', message: 'x' } })]);
  t.same(both.map((r) => r.statusCode).sort(), [200, 409], 'one outcome per job');
  const won = both[0]!.statusCode === 200 ? 'succeeded' : 'failed';
  if (won === 'failed') {
    t.equal((await show(a, c.id)).state, 'halted', 'the canary failed: halted (and the rest of this test is moot)');
    return;
  }
  // The last canary job ends while both instances sweep: wave 2 is released once.
  await Promise.all([report(b, token, canary[1]!.jobId, 'succeeded'), a.firmware.sweep(), b.firmware.sweep(), a.firmware.sweep(), b.firmware.sweep()]);
  let s = await show(b, c.id);
  t.equal(s.currentWave, 1);
  const wave2 = await jobsOf(b, token);
  t.equal(wave2.length, 4, 'the 4 jobs of wave 2, released once');
  const released = await ok<{ items: Array<{ releasedAt: string }> }>(call(a, 'GET', `/api/v1/firmware/campaigns/${c.id}/jobs?wave=1`));
  t.equal(new Set(released.items.map((j) => j.releasedAt)).size, 1, 'by one release');
  // Two failures at once through both instances: halted, once, and wave 3 never released.
  await Promise.all([
    report(a, token, wave2[0]!.jobId, 'failed', { reason: { code: 'E1', message: 'boot loop' } }),
    report(b, token, wave2[1]!.jobId, 'failed', { reason: { code: 'E1', message: 'boot loop' } }),
    a.firmware.sweep(),
    b.firmware.sweep(),
  ]);
  s = await show(a, c.id);
  t.match(s, { state: 'halted', currentWave: 1, counts: { failed: 2 } });
  t.match(s.haltedReason, /^wave 2: [12] of 4 job\(s\) failed/);
  const last = await ok<{ items: Array<{ releasedAt: string | null }> }>(call(a, 'GET', `/api/v1/firmware/campaigns/${c.id}/jobs?wave=2`));
  t.ok(last.items.every((j) => j.releasedAt === null), 'the last wave stays unreleased');
});
