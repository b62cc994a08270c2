// An edge restarted in the middle of an update picks its job up from edge.db: the image download from the
// cloud resumes with a Range request, and a device mid-download gets the offer again and carries on from
// its offset. Real peers: the stand-in for the cloud's firmware routes (test-cloud.ts; the real cloud
// is exercised in test/e2e/firmware-campaign.test.ts, written at integration), the embedded broker, a
// reference device.
import t from 'tap';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../../contracts/clock.js';
import { sha256Hex } from '../../contracts/firmware.js';
import { ReferenceDevice } from '../../firmware-specs/ota/reference-device.js';
import { waitFor } from '../../test/helpers/wait.js';
import { EdgeBroker } from '../broker/broker.js';
import type { DeviceConfig } from '../config.js';
import { silentLogger } from '../log.js';
import { openStateDb } from '../outbox/sqlite.js';
import { systemScheduler } from '../scheduler.js';
import { imagesDir } from './images.js';
import { EdgeFirmware } from './runner.js';
import { FirmwareCloudStandIn, imageBytes, newSigningKey } from './test-cloud.js';

const PROFILE = 'generic/nb-smoke-detector';

t.test('edge restart mid-download: the cloud download resumes with Range, then the device resumes from its offset', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'gs-fw-restart-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const key = newSigningKey();
  const cloud = new FirmwareCloudStandIn();
  await cloud.start();
  t.teardown(() => cloud.stop());
  const broker = new EdgeBroker({ host: '127.0.0.1', port: 0, maxPayload: 256 * 1024, logger: silentLogger() });
  await broker.start();
  t.teardown(() => broker.stop());
  broker.attach({ deviceId: 'sd-020', username: 'sd-020', secret: { password: 'pw' }, root: 'devices/sd-020/' }, { message: () => undefined, connected: () => undefined, offline: () => undefined });
  const devices: DeviceConfig[] = [{ id: 'sd-020', name: 'sd-020', profile: PROFILE, connection: { protocol: 'mqtt', username: 'sd-020', password: 'pw' }, pollIntervalMs: 10_000 }];
  const dbFile = join(dir, 'edge.db');
  /** One life of the edge: its own handle on edge.db, as after a process restart. */
  const edge = () => {
    const db = openStateDb(dbFile);
    const fw = new EdgeFirmware({
      dataDir: dir, db, cloud: { url: cloud.url, token: cloud.token },
      settings: { trustedKeys: [{ file: 'k', pem: key.publicPem, keyId: key.keyId }], maxConcurrent: 2, chunkSize: 4096, deviceTimeoutMs: 60_000 },
      devices: () => devices, broker: async () => broker,
      clock: systemClock, scheduler: systemScheduler, random: () => 0.5, logger: silentLogger(), waitS: 1, minIntervalMs: 100,
    });
    fw.start();
    const stop = async () => {
      await fw.stop();
      db.close();
    };
    t.teardown(stop);
    return { fw, stop };
  };

  const bytes = imageBytes(100_000, 21);
  const part = join(imagesDir(dir), `${sha256Hex(bytes)}.part`);
  cloud.holdAfter.set('fa_job-r', 40_000); // the first download sends 40 kB, then the link hangs
  const dev = new ReferenceDevice({ url: `mqtt://127.0.0.1:${broker.address().port}`, deviceId: 'sd-020', username: 'sd-020', password: 'pw', profile: PROFILE, version: '1.0.0', trustedKeysPem: [key.publicPem], requestLength: 4096, requestDelayMs: 40 }); // slow enough to be stopped mid-download
  await dev.start();
  t.teardown(() => dev.stop());
  cloud.add({ jobId: 'job-r', target: { kind: 'device', deviceId: 'sd-020' }, bytes, version: '1.6.0', profiles: [PROFILE], key });

  const first = edge();
  await waitFor('40 kB on disk', () => (existsSync(part) && statSync(part).size >= 40_000 ? true : undefined));
  t.match(first.fw.jobs(), [{ jobId: 'job-r', state: 'downloading' }]);
  await first.stop();
  cloud.releaseHeld();

  // Second life: the job resumes from edge.db before any poll, the download from byte 40 000.
  const second = edge();
  await waitFor('device downloading', () => (dev.held >= 20_000 ? true : undefined));
  t.same(cloud.downloads.map((d) => d.range), ['', 'bytes=40000-'], 'resumed with a Range request, not from scratch');
  await second.stop();
  const heldAtStop = dev.held;
  t.ok(heldAtStop < bytes.length, 'stopped while the device was mid-download');

  // Third life: the device hears the offer again and goes on from what it holds.
  edge();
  await waitFor('job done', () => (cloud.state('job-r') === 'succeeded' ? true : undefined));
  t.equal(dev.version, '1.6.0');
  t.equal(dev.requests.filter((r) => r.offset === 0).length, 1, 'the device never started over');
  t.ok(dev.sent.some((s) => s.state === 'downloading' && (s.bytes ?? 0) >= heldAtStop && (s.bytes ?? 0) < bytes.length), 'it reported the resume');
  t.equal(cloud.downloads.length, 2, 'the verified image was kept on disk, not fetched again');
  t.equal(cloud.stored('job-r').filter((r) => r.state === 'downloading' && r.bytes === undefined).length, 1, 'the restarts did not report the start again');
  t.equal(cloud.stored('job-r').at(-1)?.state, 'succeeded');
});
