// The edge agent updating itself: the job's release tarball is downloaded and verified by the firmware
// runner + SelfUpdater (here in the test process, standing in for the running agent), unpacked with the
// system tar, and the EdgeSupervisor switches `current`, starts the new release and waits for it to say
// healthy over IPC — or rolls back. The releases are small stand-ins for a full gridsense build: a
// package.json with the version and a bin/gridsense.js that reports healthy (as run-edge.ts does after
// the agent started), crashes, or stays silent. The cloud is the stand-in for its firmware routes
// (test-cloud.ts; the real cloud is exercised in test/e2e/firmware-campaign.test.ts at integration).
import t, { type Test } from 'tap';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../../contracts/clock.js';
import { EDGE_AGENT_PROFILE } from '../../contracts/firmware.js';
import { waitFor } from '../../test/helpers/wait.js';
import { silentLogger } from '../log.js';
import { openStateDb } from '../outbox/sqlite.js';
import { systemScheduler } from '../scheduler.js';
import { currentRelease, releasesDir, switchCurrent } from './release.js';
import { EdgeFirmware } from './runner.js';
import { SelfUpdater } from './self-update.js';
import type { SwitchRequest } from './supervised.js';
import { EdgeSupervisor, readSwitchRecord, switchRecordFile, type SwitchRecord } from './supervisor.js';
import { FirmwareCloudStandIn, newSigningKey } from './test-cloud.js';

type Behaviour = 'healthy' | 'crash' | 'silent';

/** A stand-in release: writes a line per start to STUB_LOG, then behaves; may forward a switch request file over IPC. */
function writeRelease(dir: string, version: string, behaviour: Behaviour, packageVersion = version): void {
  mkdirSync(join(dir, 'bin'), { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'gridsense', version: packageVersion, type: 'module' }));
  writeFileSync(join(dir, 'bin', 'gridsense.js'), `
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
appendFileSync(process.env.STUB_LOG, '${version} start\\n');
if ('${behaviour}' === 'crash') process.exit(3);
if ('${behaviour}' === 'healthy' && process.env.GRIDSENSE_SUPERVISED === '1') process.send({ type: 'gridsense-healthy', version: '${version}' });
// The agent's switch request, as edge/firmware/supervised.ts sends it (the test drops it in a file).
let asked = false;
setInterval(() => {
  if (asked || !existsSync(process.env.STUB_SWITCH)) return;
  asked = true;
  process.send({ type: 'gridsense-switch', ...JSON.parse(readFileSync(process.env.STUB_SWITCH, 'utf8')) });
}, 50);
process.on('SIGTERM', () => process.exit(0));
`);
}

function tarball(dir: string, out: string): Buffer {
  execFileSync('tar', ['-czf', out, '-C', dir, '.']);
  return readFileSync(out);
}

async function setup(t: Test, o: { healthDeadlineMs?: number } = {}) {
  const root = mkdtempSync(join(tmpdir(), 'gs-selfupdate-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const dataDir = join(root, 'data');
  const log = join(root, 'starts.log');
  const switchFile = join(root, 'switch.json');
  writeFileSync(log, '');
  const key = newSigningKey();
  const cloud = new FirmwareCloudStandIn();
  await cloud.start();
  t.teardown(() => cloud.stop());
  // The installed release: 1.0.0, healthy.
  writeRelease(join(releasesDir(dataDir), '1.0.0'), '1.0.0', 'healthy');
  const supervisor = new EdgeSupervisor({
    dataDir, args: [], cloud: { url: cloud.url, token: cloud.token }, bootstrap: join(releasesDir(dataDir), '1.0.0'),
    healthDeadlineMs: o.healthDeadlineMs ?? 30_000, stopGraceMs: 5000,
    clock: systemClock, scheduler: systemScheduler, random: () => 0.5, logger: silentLogger(),
    env: { STUB_LOG: log, STUB_SWITCH: switchFile }, stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  await supervisor.start();
  t.teardown(() => supervisor.stop());
  const starts = () => readFileSync(log, 'utf8').trim().split('\n').filter(Boolean);
  await waitFor('1.0.0 running', () => (starts().includes('1.0.0 start') ? true : undefined));

  /** The running agent's firmware module; `viaIpc` sends the switch request through the running release. */
  const agentFirmware = (viaIpc: boolean) => {
    const db = openStateDb(join(dataDir, 'edge.db'));
    const requestSwitch = (r: SwitchRequest) => (viaIpc ? writeFileSync(switchFile, JSON.stringify(r)) : void supervisor.switchTo(r));
    const fw = new EdgeFirmware({
      dataDir, db, cloud: { url: cloud.url, token: cloud.token },
      settings: { trustedKeys: [{ file: 'k', pem: key.publicPem, keyId: key.keyId }], maxConcurrent: 1, chunkSize: 4096, deviceTimeoutMs: 60_000 },
      devices: () => [], broker: async () => undefined,
      selfUpdate: new SelfUpdater({ dataDir, runningVersion: '1.0.0', requestSwitch, logger: silentLogger() }),
      clock: systemClock, scheduler: systemScheduler, random: () => 0.5, logger: silentLogger(), waitS: 1, minIntervalMs: 100,
    });
    fw.start();
    t.teardown(async () => {
      await fw.stop();
      db.close();
    });
    return fw;
  };
  /** Publishes release `version` (built with `behaviour`) as a signed edge job. */
  const release = (version: string, behaviour: Behaviour, packageVersion = version) => {
    const src = join(root, `src-${version}`);
    writeRelease(src, version, behaviour, packageVersion);
    const bytes = tarball(src, join(root, `gridsense-edge-${version}.tar.gz`));
    cloud.add({ jobId: `job-${version}`, target: { kind: 'edge' }, bytes, version, profiles: [EDGE_AGENT_PROFILE], key });
    return `job-${version}`;
  };
  const done = (jobId: string) => waitFor(`${jobId} decided`, () => (['succeeded', 'failed'].includes(cloud.state(jobId) ?? '') ? cloud.stored(jobId).at(-1) : undefined));
  return { dataDir, cloud, supervisor, starts, agentFirmware, release, done };
}

t.test('self-update succeeds: unpacked, current swapped, the new release reports healthy, the job succeeds', async (t) => {
  const s = await setup(t);
  const jobId = s.release('1.1.0', 'healthy');
  s.agentFirmware(false);
  const last = await s.done(jobId);
  t.same(last, { state: 'succeeded', at: last.at, runningVersion: '1.1.0' });
  t.same(s.cloud.stored(jobId).map((r) => r.state), ['downloading', 'verifying', 'installing', 'succeeded'], 'every step reported, in order');
  t.equal(realpathSync(currentRelease(s.dataDir)!), realpathSync(join(releasesDir(s.dataDir), '1.1.0')), 'current points at the new release');
  t.same(s.starts(), ['1.0.0 start', '1.1.0 start']);
  t.equal(s.supervisor.status().version, '1.1.0');
  await waitFor('outcome marked reported', () => (readSwitchRecord(s.dataDir)?.reported ? true : undefined));
  t.match(readSwitchRecord(s.dataDir), { jobId, phase: 'succeeded', from: { version: '1.0.0' }, to: { version: '1.1.0' } });
});

t.test('a release that crashes before it is healthy is rolled back; the job fails with the old runningVersion', async (t) => {
  const s = await setup(t);
  const jobId = s.release('1.2.0', 'crash');
  s.agentFirmware(true); // the request travels over the running agent's IPC channel
  const last = await s.done(jobId);
  t.match(last, { state: 'failed', reason: { code: 'GS_ERR_FIRMWARE_UNHEALTHY', message: /exited before reporting healthy.*rolled back to 1\.0\.0/ }, runningVersion: '1.0.0' });
  t.equal(realpathSync(currentRelease(s.dataDir)!), realpathSync(join(releasesDir(s.dataDir), '1.0.0')), 'current points at the old release again');
  await waitFor('old release back', () => (s.starts().filter((l) => l === '1.0.0 start').length === 2 ? true : undefined));
  // The restarted 1.0.0 asks for the same switch again (its request file is still there): not done twice.
  await waitFor('supervisor idle', async () => {
    await s.supervisor.idle();
    return true;
  });
  t.equal(s.starts().filter((l) => l === '1.2.0 start').length, 1, 'the failed release ran once');
  t.equal(s.supervisor.status().version, '1.0.0');
});

t.test('a release that never says healthy is rolled back at the deadline; a mislabelled tarball is refused before any switch', async (t) => {
  const s = await setup(t, { healthDeadlineMs: 3000 });
  const silent = s.release('1.3.0', 'silent');
  const liar = s.release('1.4.0', 'healthy', '6.6.6'); // signed as 1.4.0, but its package.json says 6.6.6
  s.agentFirmware(false);
  const a = await s.done(silent);
  t.match(a, { state: 'failed', reason: { code: 'GS_ERR_FIRMWARE_UNHEALTHY', message: /did not report healthy within 3 s/ }, runningVersion: '1.0.0' });
  const b = await s.done(liar);
  t.match(b, { state: 'failed', reason: { code: 'GS_ERR_FIRMWARE_UNSUPPORTED', message: /version 6\.6\.6/ }, runningVersion: '1.0.0' });
  t.notOk(existsSync(join(releasesDir(s.dataDir), '1.4.0')), 'nothing unpacked under the claimed version');
  // (Whether 1.3.0 got as far as writing its start line before the deadline depends on the machine's load.)
  t.notOk(s.starts().includes('1.4.0 start'), 'the mislabelled release never ran');
  t.equal(s.supervisor.status().version, '1.0.0');
});

t.test('a switch cut short by a power loss is finished when the supervisor starts again', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'gs-selfupdate-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const dataDir = join(root, 'data');
  const log = join(root, 'starts.log');
  writeFileSync(log, '');
  const cloud = new FirmwareCloudStandIn();
  await cloud.start();
  t.teardown(() => cloud.stop());
  const key = newSigningKey();
  cloud.add({ jobId: 'job-x', target: { kind: 'edge' }, bytes: Buffer.from('x'), version: '1.1.0', profiles: [EDGE_AGENT_PROFILE], key }).state = 'installing';
  writeRelease(join(releasesDir(dataDir), '1.0.0'), '1.0.0', 'healthy');
  writeRelease(join(releasesDir(dataDir), '1.1.0'), '1.1.0', 'healthy');
  // The box went down after `current` was swapped, before the new release said anything.
  switchCurrent(dataDir, join(releasesDir(dataDir), '1.1.0'));
  const rec: SwitchRecord = { jobId: 'job-x', from: { version: '1.0.0', dir: join(releasesDir(dataDir), '1.0.0') }, to: { version: '1.1.0', dir: join(releasesDir(dataDir), '1.1.0') }, phase: 'switching', reported: false };
  writeFileSync(switchRecordFile(dataDir), JSON.stringify(rec));
  const supervisor = new EdgeSupervisor({
    dataDir, args: [], cloud: { url: cloud.url, token: cloud.token }, healthDeadlineMs: 30_000,
    clock: systemClock, scheduler: systemScheduler, random: () => 0.5, logger: silentLogger(),
    env: { STUB_LOG: log, STUB_SWITCH: join(root, 'none.json') }, stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  await supervisor.start();
  t.teardown(() => supervisor.stop());
  await waitFor('job-x reported', () => (cloud.state('job-x') === 'succeeded' ? true : undefined));
  t.match(cloud.stored('job-x').at(-1), { state: 'succeeded', runningVersion: '1.1.0' });
  await supervisor.idle();
  t.match(readSwitchRecord(dataDir), { phase: 'succeeded', reported: true });
  t.equal(supervisor.status().version, '1.1.0');
});
