// The firmware campaign promise, end to end with no stand-ins: the real cloud (its firmware routes,
// waves and halts), the town's real edge agent (remote configuration, its `firmware:` section, the
// embedded MQTT broker its driver starts) and reference devices (firmware-specs/ota/) logging in with
// the MQTT credentials the cloud generated when they were registered. A signed image is uploaded
// (unsigned and wrongly signed ones are refused), rolled out in waves: the canary succeeds, the soak
// passes on the injected clock, the next wave has a device whose image arrives corrupted — the
// campaign halts on its own and the last wave is never offered — and a device that drops off
// mid-download resumes and succeeds.
import t from 'tap';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify as toYaml } from 'yaml';
import type { Clock } from '../../contracts/clock.js';
import { keyIdOf, sha256Hex, signManifest } from '../../contracts/firmware.js';
import { EdgeAgent } from '../../edge/agent.js';
import { loadEdgeConfig } from '../../edge/config.js';
import { silentLogger } from '../../edge/log.js';
import { RemoteConfigClient } from '../../edge/remote-config.js';
import { systemScheduler } from '../../edge/scheduler.js';
import { ReferenceDevice, type ReferenceDeviceOptions } from '../../firmware-specs/ota/reference-device.js';
import { freePort } from '../helpers/services.js';
import { waitFor } from '../helpers/wait.js';
import { ADMIN_TOKEN, closeCountyNow, startCounty } from './county.js';

// Waves move on by reports and by this test's sweeps, never by a timer of the cloud's own.
process.env.GRIDSENSE_FIRMWARE_SWEEP_MS = '0';

const PROFILE = 'generic/nb-smoke-detector';
const OLD = '1.0.0';
const NEW = '1.1.0';
const SOAK_MS = 30 * 60_000;

/** Real time, plus whatever the test jumped over: the cloud and the edge read the same county time. */
class JumpClock implements Clock {
  private skew = 0;
  now(): number {
    return Date.now() + this.skew;
  }
  advance(ms: number): void {
    this.skew += ms;
  }
}

function signingKey() {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const pub = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  return { pub, priv: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), keyId: keyIdOf(pub) };
}

interface Job {
  id: string;
  wave: number;
  deviceId: string | null;
  state: string;
  releasedAt: string | null;
  reason: { code: string | null; message: string | null } | null;
  runningVersion: string | null;
}
interface Campaign {
  id: string;
  state: string;
  stateLabel: string;
  currentWave: number | null;
  waves: Array<{ size: number; startedAt: string | null; finishedAt: string | null; counts: Record<string, number> }>;
  counts: Record<string, number>;
  failureReasons: Array<{ code: string; count: number }>;
  haltedReason: string | null;
}

t.test('a signed image in waves to MQTT devices through the real cloud and edge: canary, soak, halt on a corrupted image, a dropped download resumed', async (t) => {
  const clock = new JumpClock();
  const county = await startCounty({ clock });
  const { app } = county;
  // Teardowns run last-registered first: the devices, then the edge, then the cloud.
  t.teardown(() => closeCountyNow(county));

  const http = async <T>(method: string, path: string, body?: unknown, contentType = 'application/json') => {
    const res = await fetch(`${county.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(body === undefined ? {} : { 'content-type': contentType }) },
      ...(body === undefined ? {} : { body: Buffer.isBuffer(body) || typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    return { status: res.status, json: (await res.json()) as T };
  };
  /** The body of an answer with the expected status; anything else throws (also inside waitFor probes). */
  const ok = async <T>(p: Promise<{ status: number; json: T }>, status = 200): Promise<T> => {
    const r = await p;
    if (r.status !== status) throw new Error(`HTTP ${r.status}, expected ${status}: ${JSON.stringify(r.json).slice(0, 300)}`);
    return r.json;
  };

  // The county's release key: the cloud and the edge trust its public half.
  const release = signingKey();
  await ok(http('POST', '/api/v1/firmware/keys', { name: 'county release key', publicKey: release.pub }), 201);
  const image = randomBytes(24_000);
  const manifest = { version: NEW, sha256: sha256Hex(image), size: image.length, profiles: [PROFILE] };
  const upload = (signature: string | undefined, keyId?: string) => {
    const q = new URLSearchParams({ version: NEW, profiles: PROFILE, sha256: manifest.sha256, ...(signature ? { signature } : {}), ...(keyId ? { keyId } : {}) });
    return http<{ id: string; code?: string; message?: string }>('POST', `/api/v1/firmware/artifacts?${q}`, image, 'application/octet-stream');
  };
  const unsigned = await upload(undefined);
  t.match(unsigned, { status: 400, json: { code: 'GS_ERR_FIRMWARE_SIGNATURE', message: /unsigned/ } }, 'an unsigned image is refused at upload');
  const rogue = signingKey();
  const wrongKey = await upload(signManifest(manifest, rogue.priv));
  t.match(wrongKey, { status: 400, json: { code: 'GS_ERR_FIRMWARE_SIGNATURE', message: /does not verify/ } }, 'an image signed by a key the cloud does not trust is refused');
  const named = await upload(signManifest(manifest, rogue.priv), rogue.keyId);
  t.match(named, { status: 400, json: { code: 'GS_ERR_FIRMWARE_SIGNATURE', message: /not a registered/ } }, 'also when it names its (unregistered) key');
  const artifact = await ok(upload(signManifest(manifest, release.priv), release.keyId), 201);

  // Seven NB-IoT smoke detectors registered in one import; the cloud generates their MQTT logins.
  const ids = Array.from({ length: 7 }, (_, i) => `sd-fw-${i + 1}`);
  const imported = await ok(http<{ imported: number; devices: Array<{ id: string; mqtt: { username: string; password: string; topicRoot: string } }> }>('POST', '/api/v1/devices/import', ['id,profile,edge,protocol', ...ids.map((id) => `${id},${PROFILE},town-qingquan,mqtt`)].join('\n'), 'text/csv'));
  t.equal(imported.imported, 7);
  const logins = new Map(imported.devices.map((d) => [d.id, d.mqtt]));

  // The town's edge: devices from the cloud, the broker on a free port, the release key trusted.
  const port = await freePort();
  writeFileSync(join(county.dir, 'release.pem'), release.pub);
  const file = join(county.dir, 'edge.yaml');
  writeFileSync(file, toYaml({
    edge: { id: 'town-qingquan', dataDir: './edge-data' },
    cloud: { url: county.url, token: county.edgeToken, remoteConfig: true },
    mqtt: { broker: { host: '127.0.0.1', port } },
    firmware: { trustedKeys: ['release.pem'], chunkSize: 2048 },
    devices: [],
  }));
  const agent = new EdgeAgent(loadEdgeConfig(file), { logger: silentLogger(), clock });
  await agent.start();
  t.teardown(() => agent.stop());
  const remote = new RemoteConfigClient({ agent, localFile: file, scheduler: systemScheduler, random: Math.random, logger: silentLogger(), waitS: 2 });
  remote.start();
  t.teardown(() => remote.stop());
  await waitFor('the edge running the seven registered detectors', () => (agent.config.devices.length === 7 ? true : undefined));

  // A draft first: which device is in which wave is the cloud's (random) choice; each device's
  // behaviour follows from its wave.
  const draft = await ok(
    http<Campaign>('POST', '/api/v1/firmware/campaigns', { name: 'smoke detectors 1.1.0', artifactId: artifact.id, waves: [{ share: 0.1 }, { share: 0.55 }, { share: 1 }], failureThreshold: 0.2, soakMs: SOAK_MS }),
    201,
  );
  t.same(draft.waves.map((w) => w.size), [1, 3, 3], 'a canary of one, then three, then three');
  const jobsOf = async (q = '') => (await ok(http<{ items: Job[] }>('GET', `/api/v1/firmware/campaigns/${draft.id}/jobs?limit=100${q}`))).items;
  const planned = await jobsOf();
  const inWave = (w: number) => planned.filter((j) => j.wave === w).map((j) => j.deviceId!).sort();
  const [canaryId] = inWave(0);
  const [corruptId, dropperId, plainId] = inWave(1);
  const lastWave = inWave(2);
  const faults: Record<string, Partial<ReferenceDeviceOptions>> = {
    [corruptId!]: { corruptByteAt: 10_000 },
    [dropperId!]: { dropAfterBytes: 12_000 },
  };
  const devices = new Map<string, ReferenceDevice>();
  for (const id of ids) {
    const login = logins.get(id)!;
    const dev = new ReferenceDevice({ url: `mqtt://127.0.0.1:${port}`, deviceId: id, username: login.username, password: login.password, root: login.topicRoot, profile: PROFILE, version: OLD, trustedKeysPem: [release.pub], ...faults[id] });
    await waitFor(`${id} logged in to the edge's broker`, async () => {
      try {
        await dev.start();
        return true;
      } catch {
        return undefined; // the broker is still binding its port
      }
    });
    t.teardown(() => dev.stop());
    devices.set(id, dev);
  }
  const job = (deviceId: string) => jobsOf().then((js) => js.find((j) => j.deviceId === deviceId)!);
  const show = () => ok(http<Campaign>('GET', `/api/v1/firmware/campaigns/${draft.id}`));

  // The canary.
  t.match(await ok(http<Campaign>('POST', `/api/v1/firmware/campaigns/${draft.id}/start`)), { state: 'running', currentWave: 0 });
  const canary = await waitFor('the canary job to end', async () => {
    const j = await job(canaryId!);
    return ['succeeded', 'failed'].includes(j.state) ? j : undefined;
  });
  t.match(canary, { state: 'succeeded', runningVersion: NEW, reason: null }, 'the canary succeeded, running the new version');
  t.equal(devices.get(canaryId!)!.version, NEW, 'the canary device runs it');
  t.match(devices.get(canaryId!)!.sent.at(-1), { state: 'succeeded', running_version: NEW });
  // The report is stored before the campaign moves on: wait for the wave's end to be recorded too.
  let c = await waitFor('the canary wave to end', async () => {
    const s = await show();
    return s.waves[0]!.finishedAt !== null ? s : undefined;
  });
  t.equal(c.currentWave, 0, 'the canary ended; the next wave waits for the soak');
  t.same((await jobsOf('&wave=1')).map((j) => j.releasedAt), [null, null, null], 'wave 2 not released during the soak');

  clock.advance(SOAK_MS);
  await app.firmware.sweep();
  c = await show();
  t.equal(c.currentWave, 1, 'the sweep released wave 2 once the soak was over');

  // Wave 2: one image arrives corrupted, one device drops off mid-download, one is plain.
  const halted = await waitFor('the campaign to halt', async () => {
    const s = await show();
    return s.state === 'halted' ? s : undefined;
  });
  t.match(halted, { stateLabel: '已熔断', haltedReason: /wave 2: 1 of 3 job\(s\) failed, over the threshold of 20%/ });
  t.match(halted.failureReasons, [{ code: 'GS_ERR_FIRMWARE_CHECKSUM', count: 1 }]);
  t.match(await job(corruptId!), { state: 'failed', reason: { code: 'GS_ERR_FIRMWARE_CHECKSUM', message: /SHA-256/ }, runningVersion: OLD }, 'the device\'s reason reached the cloud job');
  t.equal(devices.get(corruptId!)!.version, OLD, 'the corrupted image was not installed');

  // Jobs under way when the halt came may finish; both are.
  for (const id of [dropperId!, plainId!]) {
    const end = await waitFor(`${id}'s job to end`, async () => {
      const j = await job(id);
      return ['succeeded', 'failed'].includes(j.state) ? j : undefined;
    });
    t.match(end, { state: 'succeeded', runningVersion: NEW }, `${id === dropperId ? 'the dropped' : 'the plain'} device succeeded`);
  }
  const dropper = devices.get(dropperId!)!;
  t.equal(dropper.drops, 1, 'the link dropped once');
  t.ok(dropper.connects >= 2, 'the device came back');
  t.equal(dropper.requests.filter((r) => r.offset === 0).length, 1, 'it never started over…');
  t.ok(dropper.sent.some((s) => s.state === 'downloading' && (s.bytes ?? 0) >= 12_000), '…it resumed from the bytes it held');
  t.equal(dropper.version, NEW);

  // The halt holds: wave 2 is over, time passes, sweeps run — the last wave never goes out.
  clock.advance(SOAK_MS);
  await app.firmware.sweep();
  c = await show();
  t.match(c, { state: 'halted', currentWave: 1, counts: { succeeded: 3, failed: 1, pending: 3 } });
  t.ok(c.waves[2]!.startedAt === null, 'wave 3 never started');
  t.same((await jobsOf('&wave=2')).map((j) => [j.state, j.releasedAt]), [['pending', null], ['pending', null], ['pending', null]]);
  for (const id of lastWave) {
    t.equal(devices.get(id)!.offers.length, 0, `${id} (wave 3) was never offered the image`);
    t.equal(devices.get(id)!.version, OLD);
  }
});
