// The evidence queue and its uploader against the real cloud (SQLite, or PostgreSQL under
// GRIDSENSE_TEST_PG): pictures survive a reopen of the queue, reach the cloud once even when an
// answer is lost on the way (content-addressed PUT, idempotent link), wait out an unreachable cloud,
// and a picture the cloud can never take (a damaged file) is dropped with a code instead of blocking
// the ones behind it.
import t from 'tap';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../../contracts/clock.js';
import { sha256Hex } from '../../contracts/jpeg.js';
import { startCounty, ADMIN_TOKEN } from '../../test/e2e/county.js';
import { FlakyProxy } from '../../test/helpers/flaky-proxy.js';
import { waitFor } from '../../test/helpers/wait.js';
import { silentLogger } from '../log.js';
import { openStateDb } from '../outbox/sqlite.js';
import { systemScheduler } from '../scheduler.js';
import { EvidenceQueue } from './queue.js';
import { EvidenceUploader } from './uploader.js';

function jpeg(n: number): Buffer {
  return Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10]), Buffer.from(`JFIF\0queued-${n}`), Buffer.alloc(300, n), Buffer.from([0xff, 0xd9])]);
}

t.test('queued pictures survive a reopen, reach the cloud once through lost answers and an outage', async (t) => {
  const county = await startCounty();
  t.teardown(() => county.close());
  const proxy = await new FlakyProxy(county.url).start();
  t.teardown(() => proxy.stop());
  const dir = mkdtempSync(join(tmpdir(), 'gridsense-evidence-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));

  // Queued, then the queue closed and opened again (an edge restart): both pictures are still there.
  let db = openStateDb(join(dir, 'edge.db'));
  let queue = new EvidenceQueue(db, dir, systemClock);
  const a = queue.put('alarm-evq-0001', 'cam-1', jpeg(1), 1_780_000_000_000);
  const b = queue.put('alarm-evq-0001', 'cam-2', jpeg(2), 1_780_000_000_500);
  t.same(a, { kind: 'snapshot', cameraId: 'cam-1', takenAt: 1_780_000_000_000, contentType: 'image/jpeg', sha256: sha256Hex(jpeg(1)), size: jpeg(1).length });
  t.throws(() => queue.put('alarm-evq-0001', 'cam-3', Buffer.from('<html>'), 0), { code: 'GS_ERR_EVIDENCE_INVALID' }, 'not a JPEG: refused at the door');
  writeFileSync(join(dir, 'evidence', 'orphan.jpg'), 'left by a crash between file and row');
  db.close();
  db = openStateDb(join(dir, 'edge.db'));
  t.teardown(() => db.close());
  queue = new EvidenceQueue(db, dir, systemClock);
  t.equal(queue.depth(), 2, 'both survive the reopen');
  t.same(readdirSync(join(dir, 'evidence')).sort(), [`${a.sha256}.jpg`, `${b.sha256}.jpg`].sort(), 'the orphan file is swept, the queued ones kept');

  // The first answer is lost on the way back: the cloud stored the bytes, the edge sends them again.
  proxy.mode = 'swallow-response';
  const uploader = new EvidenceUploader({ url: proxy.url, token: county.edgeToken, queue, scheduler: systemScheduler, random: () => 0, logger: silentLogger(), backoff: { baseMs: 50, capMs: 200 } });
  uploader.start();
  t.teardown(() => uploader.stop());
  await waitFor('an answer lost', () => (proxy.seen.length >= 1 ? true : undefined));
  proxy.mode = 'refuse';
  await waitFor('a refused attempt', () => (proxy.seen.some((s) => s.mode === 'refuse') ? true : undefined));
  t.equal(queue.depth(), 2, 'nothing leaves the queue while the cloud cannot be told');
  proxy.mode = 'forward';
  await waitFor('the queue drained', () => (queue.depth() === 0 ? true : undefined));
  t.equal(uploader.stats.sent, 2);
  t.same(readdirSync(join(dir, 'evidence')), [], 'delivered files are removed');
  const puts = proxy.seen.filter((s) => s.path === `/api/v1/evidence/${a.sha256}`);
  t.ok(puts.length >= 2, `the first picture's bytes were sent ${puts.length} times`);
  t.ok(puts.some((s) => s.status === 200), 'and the cloud answered a repeat with 200: already stored');

  // The cloud now has both, linked to the alarm, once: the alarm arrives and its event lists them.
  const res = await fetch(`${county.url}/api/v1/alarms`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${county.edgeToken}` },
    body: JSON.stringify({ alarms: [{ alarmId: 'alarm-evq-0001', seq: 0, action: 'raise', type: 'smoke_alarm', severity: 'critical', deviceId: 'smoke-1', location: { lon: 101.04, lat: 38.8 }, ts: 1_780_000_000_000 }] }),
  });
  t.equal(res.status, 200);
  const events = (await (await fetch(`${county.url}/api/v1/events`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).json()) as { items: Array<{ id: string }> };
  const detail = (await (await fetch(`${county.url}/api/v1/events/${events.items[0]!.id}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).json()) as { evidence: Array<{ cameraId: string; available: boolean }> };
  t.match(detail.evidence, [{ cameraId: 'cam-1', available: true }, { cameraId: 'cam-2', available: true }], 'two pictures, each once');
  t.equal(detail.evidence.length, 2);
});

t.test('a damaged file is dropped with a code; the pictures behind it still go', async (t) => {
  const county = await startCounty();
  t.teardown(() => county.close());
  const dir = mkdtempSync(join(tmpdir(), 'gridsense-evidence-bad-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const db = openStateDb(join(dir, 'edge.db'));
  t.teardown(() => db.close());
  const queue = new EvidenceQueue(db, dir, systemClock);
  const bad = queue.put('alarm-evq-0002', 'cam-1', jpeg(3), 1);
  queue.put('alarm-evq-0002', 'cam-2', jpeg(4), 2);
  writeFileSync(join(dir, 'evidence', `${bad.sha256}.jpg`), 'bit rot');
  const logged: Array<Record<string, unknown>> = [];
  const logger = { ...silentLogger(), error: (o: object) => void logged.push(o as Record<string, unknown>), child: () => logger } as unknown as ReturnType<typeof silentLogger>;
  const uploader = new EvidenceUploader({ url: county.url, token: county.edgeToken, queue, scheduler: systemScheduler, random: () => 0, logger });
  uploader.start();
  t.teardown(() => uploader.stop());
  await waitFor('the queue drained', () => (queue.depth() === 0 ? true : undefined));
  t.same(uploader.stats, { sent: 1, dropped: 1 });
  t.match(logged, [{ code: 'GS_ERR_STATE_CORRUPT', sha256: bad.sha256 }]);
});
