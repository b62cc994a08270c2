// A campaign whose target is the edge agent itself (profile gridsense-edge), through the real cloud:
// two town boxes, each with its firmware module (EdgeFirmware + SelfUpdater, in this process as in the
// running agent) and its supervisor (EdgeSupervisor, forking the releases). One signed release tarball
// goes to both; it starts well on one box and crashes on the other (as a release missing a library
// that box lacks would), so the supervisor there rolls back and the cloud job fails with the old
// version running. The releases are small stand-ins for a gridsense build, as in
// edge/firmware/self-update.test.ts: a package.json with the version and a bin/gridsense.js that
// reports healthy over IPC, or exits.
import t, { type Test } from 'tap';
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../../contracts/clock.js';
import { EDGE_AGENT_PROFILE, keyIdOf, sha256Hex, signManifest } from '../../contracts/firmware.js';
import { silentLogger } from '../../edge/log.js';
import { openStateDb } from '../../edge/outbox/sqlite.js';
import { systemScheduler } from '../../edge/scheduler.js';
import { currentRelease, releasesDir } from '../../edge/firmware/release.js';
import { EdgeFirmware } from '../../edge/firmware/runner.js';
import { SelfUpdater } from '../../edge/firmware/self-update.js';
import { EdgeSupervisor } from '../../edge/firmware/supervisor.js';
import { waitFor } from '../helpers/wait.js';
import { ADMIN_TOKEN, closeCountyNow, startCounty } from './county.js';

process.env.GRIDSENSE_FIRMWARE_SWEEP_MS = '0';

/** A stand-in release: a line per start in STUB_LOG; exits when this box's STUB_CRASH names its version, else says healthy. */
function writeRelease(dir: string, version: string): void {
  mkdirSync(join(dir, 'bin'), { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'gridsense', version, type: 'module' }));
  writeFileSync(join(dir, 'bin', 'gridsense.js'), `
import { appendFileSync } from 'node:fs';
appendFileSync(process.env.STUB_LOG, '${version} start\\n');
if (process.env.STUB_CRASH === '${version}') process.exit(3);
if (process.env.GRIDSENSE_SUPERVISED === '1') process.send({ type: 'gridsense-healthy', version: '${version}' });
setInterval(() => undefined, 1000);
process.on('SIGTERM', () => process.exit(0));
`);
}

interface Box {
  supervisor: EdgeSupervisor;
  dataDir: string;
  starts: () => string[];
}

/** One town box: release 1.0.0 installed and running under its supervisor, its firmware module polling the cloud. */
async function box(t: Test, root: string, name: string, cloud: { url: string; token: string }, key: { pem: string; keyId: string }, crash?: string): Promise<Box> {
  const dataDir = join(root, name);
  const log = join(root, `${name}.log`);
  writeFileSync(log, '');
  writeRelease(join(releasesDir(dataDir), '1.0.0'), '1.0.0');
  const supervisor = new EdgeSupervisor({
    dataDir, args: [], cloud, bootstrap: join(releasesDir(dataDir), '1.0.0'), healthDeadlineMs: 30_000, stopGraceMs: 5000,
    clock: systemClock, scheduler: systemScheduler, random: () => 0.5, logger: silentLogger(),
    env: { STUB_LOG: log, ...(crash ? { STUB_CRASH: crash } : {}) }, stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  await supervisor.start();
  t.teardown(() => supervisor.stop());
  const starts = () => readFileSync(log, 'utf8').trim().split('\n').filter(Boolean);
  await waitFor(`${name}: 1.0.0 running`, () => (starts().includes('1.0.0 start') ? true : undefined));
  const db = openStateDb(join(dataDir, 'edge.db'));
  const fw = new EdgeFirmware({
    dataDir, db, cloud,
    settings: { trustedKeys: [{ file: 'release.pem', pem: key.pem, keyId: key.keyId }], maxConcurrent: 1, chunkSize: 4096, deviceTimeoutMs: 60_000 },
    devices: () => [], broker: async () => undefined,
    selfUpdate: new SelfUpdater({ dataDir, runningVersion: '1.0.0', requestSwitch: (r) => void supervisor.switchTo(r), logger: silentLogger() }),
    clock: systemClock, scheduler: systemScheduler, random: () => 0.5, logger: silentLogger(), waitS: 5, minIntervalMs: 100,
  });
  fw.start();
  t.teardown(async () => {
    await fw.stop();
    db.close();
  });
  return { supervisor, dataDir, starts };
}

interface Job {
  edgeId: string;
  targetKind: string;
  state: string;
  reason: { code: string | null; message: string | null } | null;
  runningVersion: string | null;
}

t.test('an edge-agent campaign through the real cloud: one box switches to the new release, the other rolls back and says so', async (t) => {
  const county = await startCounty();
  // Registered first, run last (tap runs teardowns last-registered first): the boxes stop before the cloud.
  t.teardown(() => closeCountyNow(county));
  const root = mkdtempSync(join(tmpdir(), 'gs-e2e-selfupdate-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const http = async <T>(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<T> => {
    const res = await fetch(`${county.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(body === undefined ? {} : { 'content-type': contentType }) },
      ...(body === undefined ? {} : { body: Buffer.isBuffer(body) ? body : JSON.stringify(body) }),
    });
    if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  };

  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const key = { pem, keyId: keyIdOf(pem) };
  await http('POST', '/api/v1/firmware/keys', { name: 'edge release key', publicKey: pem });
  const { token: otherToken } = await http<{ token: string }>('POST', '/api/v1/edges', { id: 'town-xinhe', name: 'Xinhe' });

  // Release 1.1.0, built once, signed for the edge agent and uploaded.
  const src = join(root, 'src-1.1.0');
  writeRelease(src, '1.1.0');
  const tarball = join(root, 'gridsense-edge-1.1.0.tar.gz');
  execFileSync('tar', ['-czf', tarball, '-C', src, '.']);
  const bytes = readFileSync(tarball);
  const manifest = { version: '1.1.0', sha256: sha256Hex(bytes), size: bytes.length, profiles: [EDGE_AGENT_PROFILE] };
  const q = new URLSearchParams({ version: manifest.version, profiles: EDGE_AGENT_PROFILE, sha256: manifest.sha256, signature: signManifest(manifest, privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()), keyId: key.keyId });
  const artifact = await http<{ id: string }>('POST', `/api/v1/firmware/artifacts?${q}`, bytes, 'application/octet-stream');

  const good = await box(t, root, 'qingquan', { url: county.url, token: county.edgeToken }, key);
  const bad = await box(t, root, 'xinhe', { url: county.url, token: otherToken }, key, '1.1.0');

  // One wave, both boxes; one failure of two is not more than the 50 % threshold.
  const created = await http<{ id: string; targetKind: string; counts: { total: number } }>('POST', '/api/v1/firmware/campaigns', { artifactId: artifact.id, waves: [{ share: 1 }], failureThreshold: 0.5, start: true });
  t.match(created, { targetKind: 'edge', counts: { total: 2 } }, 'one job per live edge');
  const jobs = () => http<{ items: Job[] }>('GET', `/api/v1/firmware/campaigns/${created.id}/jobs`).then((r) => new Map(r.items.map((j) => [j.edgeId, j])));
  const ended = await waitFor('both jobs decided', async () => {
    const js = await jobs();
    return [...js.values()].every((j) => ['succeeded', 'failed'].includes(j.state)) ? js : undefined;
  });

  t.match(ended.get('town-qingquan'), { targetKind: 'edge', state: 'succeeded', runningVersion: '1.1.0', reason: null }, 'the box that switched reports the new version');
  t.equal(realpathSync(currentRelease(good.dataDir)!), realpathSync(join(releasesDir(good.dataDir), '1.1.0')), 'its current points at 1.1.0');
  t.same(good.starts(), ['1.0.0 start', '1.1.0 start']);
  t.equal(good.supervisor.status().version, '1.1.0');

  t.match(ended.get('town-xinhe'), { state: 'failed', reason: { code: 'GS_ERR_FIRMWARE_UNHEALTHY', message: /exited before reporting healthy.*rolled back to 1\.0\.0/ }, runningVersion: '1.0.0' }, 'the rolled-back box: failed, the old version running');
  t.equal(realpathSync(currentRelease(bad.dataDir)!), realpathSync(join(releasesDir(bad.dataDir), '1.0.0')), 'its current points at 1.0.0 again');
  await waitFor('xinhe back on 1.0.0', () => (bad.starts().filter((l) => l === '1.0.0 start').length === 2 ? true : undefined));
  t.same(bad.starts(), ['1.0.0 start', '1.1.0 start', '1.0.0 start']);

  const c = await waitFor('the campaign to complete', async () => {
    const s = await http<{ state: string; counts: Record<string, number>; failureReasons: Array<{ code: string; count: number }> }>('GET', `/api/v1/firmware/campaigns/${created.id}`);
    return s.state === 'completed' ? s : undefined;
  });
  t.match(c, { counts: { succeeded: 1, failed: 1, total: 2 }, failureReasons: [{ code: 'GS_ERR_FIRMWARE_UNHEALTHY', count: 1 }] });
});
