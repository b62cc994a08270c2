// Firmware jobs end to end on the edge: a stand-in for the cloud's three firmware routes (test-cloud.ts;
// the real cloud is exercised in test/e2e/firmware-campaign.test.ts, written at integration), the edge's
// real embedded MQTT broker, and reference devices (firmware-specs/ota/reference-device.ts) speaking the
// OTA protocol over real MQTT connections.
import t, { type Test } from 'tap';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock, systemClock, type Clock } from '../../contracts/clock.js';
import type { FirmwareJobReport } from '../../contracts/firmware.js';
import { ReferenceDevice, type ReferenceDeviceOptions } from '../../firmware-specs/ota/reference-device.js';
import { waitFor } from '../../test/helpers/wait.js';
import { connectAsync } from 'mqtt';
import { EdgeBroker } from '../broker/broker.js';
import { CapturedLog } from '../broker/captured-log.js';
import type { DeviceConfig } from '../config.js';
import { silentLogger } from '../log.js';
import { openStateDb } from '../outbox/sqlite.js';
import { systemScheduler } from '../scheduler.js';
import { imagesDir } from './images.js';
import { EdgeFirmware } from './runner.js';
import { FirmwareCloudStandIn, imageBytes, newSigningKey, type SigningKey } from './test-cloud.js';

const PROFILE = 'generic/nb-smoke-detector';
const vendorKey = newSigningKey();

interface Setup {
  cloud: FirmwareCloudStandIn;
  broker: EdgeBroker;
  dir: string;
  firmware: () => EdgeFirmware;
  device: (id: string, opts?: Partial<ReferenceDeviceOptions>) => Promise<ReferenceDevice>;
}

async function setup(t: Test, o: { deviceIds: string[]; trusted?: SigningKey[]; maxConcurrent?: number; clock?: Clock; utcOffsetMinutes?: number; deviceTimeoutMs?: number; log?: CapturedLog; profile?: string }): Promise<Setup> {
  const dir = mkdtempSync(join(tmpdir(), 'gs-fw-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const cloud = new FirmwareCloudStandIn();
  await cloud.start();
  t.teardown(() => cloud.stop());
  const broker = new EdgeBroker({ host: '127.0.0.1', port: 0, maxPayload: 256 * 1024, logger: silentLogger() });
  await broker.start();
  t.teardown(() => broker.stop());
  const devices: DeviceConfig[] = o.deviceIds.map((id) => ({ id, name: id, profile: o.profile ?? PROFILE, connection: { protocol: 'mqtt', username: id, password: `pw-${id}` }, pollIntervalMs: 10_000 }));
  // What the agent's MQTT driver sessions do: each configured device is an account on the broker.
  for (const d of o.deviceIds) broker.attach({ deviceId: d, username: d, secret: { password: `pw-${d}` }, root: `devices/${d}/` }, { message: () => undefined, connected: () => undefined, offline: () => undefined });
  const db = openStateDb(join(dir, 'edge.db'));
  t.teardown(() => db.close());
  const firmware = () => {
    const fw = new EdgeFirmware({
      dataDir: dir, db, cloud: { url: cloud.url, token: cloud.token },
      settings: { trustedKeys: (o.trusted ?? [vendorKey]).map((k) => ({ file: 'test', pem: k.publicPem, keyId: k.keyId })), maxConcurrent: o.maxConcurrent ?? 4, chunkSize: 1024, deviceTimeoutMs: o.deviceTimeoutMs ?? 60_000 },
      devices: () => devices, broker: async () => broker,
      clock: o.clock ?? systemClock, scheduler: systemScheduler, random: () => 0.5, logger: o.log ? o.log.logger() : silentLogger(),
      waitS: 1, minIntervalMs: 100,
      ...(o.utcOffsetMinutes !== undefined ? { utcOffsetMinutes: o.utcOffsetMinutes } : {}),
    });
    t.teardown(() => fw.stop());
    return fw;
  };
  const device = async (id: string, opts: Partial<ReferenceDeviceOptions> = {}) => {
    const d = new ReferenceDevice({
      url: `mqtt://127.0.0.1:${broker.address().port}`, deviceId: id, username: id, password: `pw-${id}`,
      profile: PROFILE, version: '1.0.0', trustedKeysPem: [vendorKey.publicPem], ...opts,
    });
    await d.start();
    t.teardown(() => d.stop());
    return d;
  };
  return { cloud, broker, dir, firmware, device };
}

const states = (rs: FirmwareJobReport[]) => rs.map((r) => r.state).filter((s, i, a) => s !== a[i - 1]);
const finished = (cloud: FirmwareCloudStandIn, jobId: string) => () => (['succeeded', 'failed', 'cancelled'].includes(cloud.state(jobId) ?? '') ? cloud.stored(jobId).at(-1) : undefined);

t.test('a good update reaches succeeded; one device at a time with maxConcurrent 1; the offer is withdrawn after', async (t) => {
  const s = await setup(t, { deviceIds: ['sd-001', 'sd-002'], maxConcurrent: 1 });
  const bytes = imageBytes(10_000);
  const a = await s.device('sd-001');
  const b = await s.device('sd-002');
  s.cloud.add({ jobId: 'job-a', target: { kind: 'device', deviceId: 'sd-001' }, bytes, version: '1.1.0', profiles: [PROFILE], key: vendorKey });
  s.cloud.add({ jobId: 'job-b', target: { kind: 'device', deviceId: 'sd-002' }, bytes, version: '1.1.0', profiles: [PROFILE], key: vendorKey });
  const fw = s.firmware();
  fw.start();
  const lastA = await waitFor('job-a done', finished(s.cloud, 'job-a'));
  const lastB = await waitFor('job-b done', finished(s.cloud, 'job-b'));
  t.same(lastA, { state: 'succeeded', at: lastA.at, runningVersion: '1.1.0' });
  t.equal(lastB.state, 'succeeded');
  t.same(states(s.cloud.stored('job-a')), ['downloading', 'verifying', 'installing', 'succeeded'], 'every state change reported, in order');
  t.ok(s.cloud.stored('job-a').some((r) => r.bytes === 10_000), 'progress carries the bytes the device holds');
  t.equal(a.version, '1.1.0');
  t.equal(b.version, '1.1.0');
  // maxConcurrent 1: whichever went first had finished before the other's first report.
  const order = s.cloud.reports.map((r) => r.jobId);
  const first = order[0]!;
  const second = first === 'job-a' ? 'job-b' : 'job-a';
  t.ok(order.lastIndexOf(first) < order.indexOf(second), 'the second job started after the first ended');
  t.equal(s.cloud.downloads.filter((d) => d.artifactId === 'fa_job-a').length, 1, 'the image is fetched from the cloud once');
  t.equal(s.cloud.reports.filter((r) => r.status !== 200).length, 0, 'no report refused');
  await waitFor('pending reports delivered', () => (fw.pendingReports() === 0 ? true : undefined));
  await waitFor('the image deleted once no job needs it', () => (readdirSync(imagesDir(s.dir)).length === 0 ? true : undefined));

  // A device that subscribes now gets no offer: it was withdrawn (empty retained payload).
  const late = await s.device('sd-001', { version: '1.1.0' });
  await late.stop();
  t.equal(late.offers.length, 0, 'no retained offer left behind');
});

t.test('a device whose image arrives corrupted reports GS_ERR_FIRMWARE_CHECKSUM; the job fails with it', async (t) => {
  const s = await setup(t, { deviceIds: ['sd-003'] });
  const dev = await s.device('sd-003', { corruptByteAt: 5000 });
  s.cloud.add({ jobId: 'job-c', target: { kind: 'device', deviceId: 'sd-003' }, bytes: imageBytes(8000, 2), version: '1.1.0', profiles: [PROFILE], key: vendorKey });
  s.firmware().start();
  const last = await waitFor('job-c done', finished(s.cloud, 'job-c'));
  t.match(last, { state: 'failed', reason: { code: 'GS_ERR_FIRMWARE_CHECKSUM' }, runningVersion: '1.0.0' });
  t.same(states(s.cloud.stored('job-c')), ['downloading', 'verifying', 'failed']);
  t.equal(dev.version, '1.0.0', 'the device still runs its old firmware');
});

t.test('a device that drops off mid-download comes back, resumes from its offset and succeeds', async (t) => {
  const s = await setup(t, { deviceIds: ['sd-004'] });
  const bytes = imageBytes(12_000, 3);
  const dev = await s.device('sd-004', { dropAfterBytes: 5000 });
  s.cloud.add({ jobId: 'job-d', target: { kind: 'device', deviceId: 'sd-004' }, bytes, version: '2.0.0', profiles: [PROFILE], key: vendorKey });
  s.firmware().start();
  const last = await waitFor('job-d done', finished(s.cloud, 'job-d'));
  t.equal(last.state, 'succeeded');
  t.equal(dev.drops, 1);
  t.ok(dev.connects >= 2, 'reconnected');
  // After the drop the device asked from where it was, never from 0 again.
  const offsets = dev.requests.map((r) => r.offset);
  t.equal(offsets.filter((o) => o === 0).length, 1, 'offset 0 asked once');
  t.ok(offsets.some((o) => o >= 5000), 'went on past the drop');
  const resumed = dev.sent.find((x, i) => i > 0 && x.state === 'downloading' && (x.bytes ?? 0) >= 5000);
  t.ok(resumed, 'reported the resume with the bytes it held');
  t.equal(dev.version, '2.0.0');
});

t.test('unsigned, wrongly signed and tampered images are refused at the edge; no device is offered them', async (t) => {
  const rogue = newSigningKey();
  const s = await setup(t, { deviceIds: ['sd-005', 'sd-006', 'sd-007'] });
  const devs = await Promise.all(['sd-005', 'sd-006', 'sd-007'].map((id) => s.device(id)));
  const bytes = imageBytes(4000, 4);
  s.cloud.add({ jobId: 'job-unsigned', target: { kind: 'device', deviceId: 'sd-005' }, bytes, version: '1.2.0', profiles: [PROFILE], key: null });
  s.cloud.add({ jobId: 'job-rogue', target: { kind: 'device', deviceId: 'sd-006' }, bytes, version: '1.2.0', profiles: [PROFILE], key: rogue });
  // Signed correctly, but the cloud serves other bytes: the SHA-256 check catches it.
  s.cloud.add({ jobId: 'job-tampered', target: { kind: 'device', deviceId: 'sd-007' }, bytes, serve: imageBytes(4000, 99), version: '1.2.0', profiles: [PROFILE], key: vendorKey });
  s.firmware().start();
  const unsigned = await waitFor('unsigned refused', finished(s.cloud, 'job-unsigned'));
  const wrong = await waitFor('rogue refused', finished(s.cloud, 'job-rogue'));
  const tampered = await waitFor('tampered refused', finished(s.cloud, 'job-tampered'));
  t.match(unsigned, { state: 'failed', reason: { code: 'GS_ERR_FIRMWARE_SIGNATURE', message: /unsigned/ } });
  t.match(wrong, { state: 'failed', reason: { code: 'GS_ERR_FIRMWARE_SIGNATURE', message: /not trusted here/ } });
  t.match(tampered, { state: 'failed', reason: { code: 'GS_ERR_FIRMWARE_CHECKSUM' } });
  t.same(s.cloud.downloads.map((d) => d.artifactId), ['fa_job-tampered'], 'a bad signature costs no download');
  for (const d of devs) t.equal(d.offers.length, 0, `${d.version} device saw no offer`);
});

t.test('the device checks the signature itself: an image its baked-in key did not sign is refused', async (t) => {
  const otherVendor = newSigningKey();
  // The edge trusts both keys (a key rotation); this device only knows the old one.
  const s = await setup(t, { deviceIds: ['sd-008', 'sd-009'], trusted: [vendorKey, otherVendor] });
  await s.device('sd-008');
  const failing = await s.device('sd-009', { failInstall: true });
  s.cloud.add({ jobId: 'job-e', target: { kind: 'device', deviceId: 'sd-008' }, bytes: imageBytes(3000, 5), version: '1.3.0', profiles: [PROFILE], key: otherVendor });
  s.cloud.add({ jobId: 'job-f', target: { kind: 'device', deviceId: 'sd-009' }, bytes: imageBytes(3000, 6), version: '1.3.0', profiles: [PROFILE], key: vendorKey });
  s.firmware().start();
  const e = await waitFor('job-e done', finished(s.cloud, 'job-e'));
  t.match(e, { state: 'failed', reason: { code: 'GS_ERR_FIRMWARE_SIGNATURE' }, runningVersion: '1.0.0' });
  const f = await waitFor('job-f done', finished(s.cloud, 'job-f'));
  t.match(f, { state: 'failed', reason: { code: 'GS_ERR_FIRMWARE_INSTALL' }, runningVersion: '1.0.0' }, 'an install failure is reported with its reason');
  t.equal(failing.version, '1.0.0');
});

t.test('a paused job is not started, a job waits for notBefore and its window; unpaused / in time they run', async (t) => {
  // 2026-01-01 10:00 at UTC+8.
  const clock = new ManualClock(Date.UTC(2026, 0, 1, 2, 0));
  const s = await setup(t, { deviceIds: ['sd-010', 'sd-011', 'sd-012', 'sd-013'], clock, utcOffsetMinutes: 480 });
  const devs = await Promise.all(['sd-010', 'sd-011', 'sd-012', 'sd-013'].map((id) => s.device(id)));
  const bytes = imageBytes(2000, 7);
  const common = { bytes, version: '1.4.0', profiles: [PROFILE], key: vendorKey };
  const paused = s.cloud.add({ jobId: 'job-paused', target: { kind: 'device', deviceId: 'sd-010' }, ...common, paused: true });
  s.cloud.add({ jobId: 'job-later', target: { kind: 'device', deviceId: 'sd-011' }, ...common, notBefore: clock.now() + 3_600_000 });
  s.cloud.add({ jobId: 'job-night', target: { kind: 'device', deviceId: 'sd-012' }, ...common, window: { start: '23:00', end: '04:00' } });
  s.cloud.add({ jobId: 'job-now', target: { kind: 'device', deviceId: 'sd-013' }, ...common, window: { start: '09:30', end: '11:00' } });
  s.firmware().start();
  await waitFor('job-now done', finished(s.cloud, 'job-now'));
  const polled = s.cloud.polls;
  await waitFor('three more polls', () => (s.cloud.polls >= polled + 3 ? true : undefined));
  for (const id of ['job-paused', 'job-later', 'job-night']) t.same(s.cloud.stored(id), [], `${id} not started`);
  t.same(devs.slice(0, 3).map((d) => d.offers.length), [0, 0, 0], 'no offers for them');

  paused.paused = false;
  await waitFor('unpaused job done', finished(s.cloud, 'job-paused'));
  clock.advance(3_600_000); // 11:00: past notBefore, still outside 23:00–04:00
  await waitFor('job-later done', finished(s.cloud, 'job-later'));
  t.same(s.cloud.stored('job-night'), [], 'the night job still waits');
  clock.set(Date.UTC(2026, 0, 1, 15, 30)); // 23:30 local
  const night = await waitFor('job-night done', finished(s.cloud, 'job-night'));
  t.equal(night.state, 'succeeded');
});

t.test('a job the cloud withdraws mid-download stops and its offer is withdrawn', async (t) => {
  const s = await setup(t, { deviceIds: ['sd-014'] });
  // A device that asks slowly: one chunk of 256 bytes per request, so the job is still running when withdrawn.
  const dev = await s.device('sd-014', { requestLength: 256, requestDelayMs: 2 });
  const job = s.cloud.add({ jobId: 'job-w', target: { kind: 'device', deviceId: 'sd-014' }, bytes: imageBytes(200_000, 8), version: '1.5.0', profiles: [PROFILE], key: vendorKey });
  const fw = s.firmware();
  fw.start();
  await waitFor('device downloading', () => (dev.held > 0 ? true : undefined));
  job.state = 'cancelled'; // the campaign was aborted: the cloud lists it no more
  await waitFor('job forgotten by the edge', () => (fw.jobs().length === 0 ? true : undefined));
  await waitFor('device dropped the partial image', () => (dev.held === 0 ? true : undefined));
  t.notOk(dev.sent.some((x) => x.state === 'succeeded'), 'the device did not finish');
});

t.test('bad input: malformed and out-of-range device messages get ota/error; a silent device times out; wrong model and a missing artifact fail with reasons', async (t) => {
  const log = new CapturedLog();
  const s = await setup(t, { deviceIds: ['sd-020', 'sd-021'], deviceTimeoutMs: 1500, log });
  const url = `mqtt://127.0.0.1:${s.broker.address().port}`;
  // A device that speaks garbage, logged in with its own credentials, listening for the edge's errors.
  const raw = await connectAsync(url, { username: 'sd-020', password: 'pw-sd-020', clientId: 'raw-020', reconnectPeriod: 0 });
  t.teardown(() => raw.endAsync(true));
  const errors: Array<{ job_id: string; code: string; message: string }> = [];
  raw.on('message', (topic, payload) => {
    if (topic.endsWith('/ota/error')) errors.push(JSON.parse(payload.toString()) as (typeof errors)[number]);
  });
  let offered = false;
  raw.on('message', (topic, payload) => void (topic.endsWith('/ota/offer') && payload.length > 0 && (offered = true)));
  await raw.subscribeAsync(['devices/sd-020/ota/error', 'devices/sd-020/ota/offer'], { qos: 1 });
  s.cloud.add({ jobId: 'job-g', target: { kind: 'device', deviceId: 'sd-020' }, bytes: imageBytes(3000, 9), version: '1.7.0', profiles: [PROFILE], key: vendorKey });
  // The same image for another model: the edge refuses it for sd-021 without offering.
  s.cloud.add({ jobId: 'job-model', target: { kind: 'device', deviceId: 'sd-021' }, bytes: imageBytes(3000, 9), version: '1.7.0', profiles: ['generic/access-controller'], key: vendorKey });
  const missing = s.cloud.add({ jobId: 'job-404', target: { kind: 'device', deviceId: 'sd-021' }, bytes: imageBytes(10, 10), version: '1.7.1', profiles: [PROFILE], key: vendorKey });
  missing.artifact.downloadPath = '/api/v1/edges/firmware/artifacts/gone/download';
  s.firmware().start();
  await waitFor('offer', () => (offered ? true : undefined));
  await raw.publishAsync('devices/sd-020/ota/request', 'not json', { qos: 1 });
  await raw.publishAsync('devices/sd-020/ota/request', JSON.stringify({ job_id: 'job-g', offset: 3000, length: 10 }), { qos: 1 });
  await raw.publishAsync('devices/sd-020/ota/request', JSON.stringify({ job_id: 'job-g', offset: 0, length: 4096 }), { qos: 1 });
  await raw.publishAsync('devices/sd-020/ota/request', JSON.stringify({ job_id: 'job-other', offset: 0, length: 10 }), { qos: 1 });
  // A jump forward is taken (downloading → installing); a step back after it (→ verifying) is ignored.
  await raw.publishAsync('devices/sd-020/ota/status', JSON.stringify({ job_id: 'job-g', state: 'installing' }), { qos: 1 });
  await raw.publishAsync('devices/sd-020/ota/status', JSON.stringify({ job_id: 'job-g', state: 'verifying' }), { qos: 1 });
  await waitFor('four errors', () => (errors.length >= 4 ? true : undefined));
  t.same(errors.map((e) => e.code), Array(4).fill('GS_ERR_FIRMWARE_OTA_MESSAGE'));
  t.match(errors.map((e) => e.message), [/malformed message/, /out of range/, /out of range/, /job-other is not on offer/]);
  // Then it falls silent: the edge fails the job and withdraws the offer.
  const g = await waitFor('job-g timed out', finished(s.cloud, 'job-g'));
  t.match(g, { state: 'failed', reason: { code: 'GS_ERR_FIRMWARE_TIMEOUT' } });
  t.same(states(s.cloud.stored('job-g')), ['downloading', 'installing', 'failed'], 'the backward move to verifying was not reported');
  t.ok(log.withCode('GS_ERR_FIRMWARE_OTA_MESSAGE').length >= 5, 'each bad message logged with its code');
  const model = await waitFor('job-model refused', finished(s.cloud, 'job-model'));
  t.match(model, { state: 'failed', reason: { code: 'GS_ERR_FIRMWARE_UNSUPPORTED', message: /is a generic\/nb-smoke-detector/ } });
  const gone = await waitFor('job-404 failed', finished(s.cloud, 'job-404'));
  t.match(gone, { state: 'failed', reason: { code: 'GS_ERR_FIRMWARE_DOWNLOAD', message: /HTTP 404/ } });
});
