// The firmware section of edge.yaml, and the agent running a campaign job with it: the real EdgeAgent
// (its MQTT driver starts the embedded broker for the configured device), a reference device logging in
// with the credentials from edge.yaml, and the stand-in for the cloud's firmware routes (test-cloud.ts;
// the real cloud is exercised in test/e2e/firmware-campaign.test.ts, written at integration).
import t, { type Test } from 'tap';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify as toYaml } from 'yaml';
import { isGsError } from '../../contracts/errors.js';
import { ReferenceDevice } from '../../firmware-specs/ota/reference-device.js';
import { freePort } from '../../test/helpers/services.js';
import { waitFor } from '../../test/helpers/wait.js';
import { EdgeAgent } from '../agent.js';
import { hashPassword } from '../broker/password.js';
import { loadEdgeConfig } from '../config.js';
import { silentLogger } from '../log.js';
import { FirmwareCloudStandIn, imageBytes, newSigningKey } from './test-cloud.js';

const PROFILE = 'generic/nb-smoke-detector';

function tempDir(t: Pick<Test, 'teardown'>): string {
  const dir = mkdtempSync(join(tmpdir(), 'gs-fw-agent-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const edgeYaml = (extra: Record<string, unknown>) => ({ edge: { id: 'town-fw', dataDir: './data' }, cloud: { url: 'http://127.0.0.1:9', token: 'gse_x' }, devices: [], ...extra });

t.test('edge.yaml firmware: defaults filled in, keys read and checked, problems point at the entry', async (t) => {
  const dir = tempDir(t);
  const key = newSigningKey();
  writeFileSync(join(dir, 'vendor.pem'), key.publicPem);
  writeFileSync(join(dir, 'rsa.pem'), generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'pem' }));
  writeFileSync(join(dir, 'junk.pem'), 'not a key');
  const file = join(dir, 'edge.yaml');

  writeFileSync(file, toYaml(edgeYaml({})));
  t.equal(loadEdgeConfig(file).firmware, undefined, 'no section: no firmware jobs');

  writeFileSync(file, toYaml(edgeYaml({ firmware: { trustedKeys: ['vendor.pem'] } })));
  t.match(loadEdgeConfig(file).firmware, { trustedKeys: [{ keyId: key.keyId, file: join(dir, 'vendor.pem') }], maxConcurrent: 4, chunkSize: 4096, deviceTimeoutMs: 1_800_000 });

  writeFileSync(file, toYaml(edgeYaml({ firmware: { trustedKeys: ['missing.pem', 'rsa.pem', 'junk.pem'], chunkSize: 10, maxConcurrent: 0, deviceTimeout: '10ms', extra: 1 } })));
  try {
    loadEdgeConfig(file);
    t.fail('should refuse');
  } catch (err) {
    t.ok(isGsError(err) && err.code === 'GS_ERR_CONFIG_INVALID');
    const details = isGsError(err) ? err.details.map((d) => `${d.path}: ${d.message}`) : [];
    for (const want of [/trustedKeys\/0: cannot read .*ENOENT/, /trustedKeys\/1: .*rsa key/, /trustedKeys\/2: .*not a PEM public key/, /\/firmware\/chunkSize/, /\/firmware\/maxConcurrent/, /\/firmware\/deviceTimeout: must be at least 1s/, /\/firmware: is not a known field|\/firmware\/extra/]) {
      t.ok(details.some((d) => want.test(d)), `reports ${want}`);
    }
  }
});

t.test('the agent runs a device job from its firmware section, over the broker its MQTT driver started', async (t) => {
  const dir = tempDir(t);
  const key = newSigningKey();
  writeFileSync(join(dir, 'vendor.pem'), key.publicPem);
  const cloud = new FirmwareCloudStandIn();
  await cloud.start();
  t.teardown(() => cloud.stop());
  const port = await freePort();
  const file = join(dir, 'edge.yaml');
  writeFileSync(file, toYaml({
    edge: { id: 'town-fw', dataDir: './data' },
    cloud: { url: cloud.url, token: cloud.token },
    mqtt: { broker: { host: '127.0.0.1', port } },
    firmware: { trustedKeys: ['vendor.pem'], chunkSize: 2048 },
    devices: [{ id: 'sd-101', profile: PROFILE, connection: { protocol: 'mqtt', username: 'sd-101', passwordHash: await hashPassword('s3cret', { N: 1024 }) } }],
  }));
  const agent = new EdgeAgent(loadEdgeConfig(file), { logger: silentLogger() });
  await agent.start();
  t.teardown(() => agent.stop());
  const dev = new ReferenceDevice({ url: `mqtt://127.0.0.1:${port}`, deviceId: 'sd-101', username: 'sd-101', password: 's3cret', profile: PROFILE, version: '3.0.0', trustedKeysPem: [key.publicPem] });
  await waitFor('device logged in', async () => {
    try {
      await dev.start();
      return true;
    } catch {
      return undefined; // the broker is still binding its port
    }
  });
  t.teardown(() => dev.stop());
  cloud.add({ jobId: 'job-agent', target: { kind: 'device', deviceId: 'sd-101' }, bytes: imageBytes(9000, 11), version: '3.1.0', profiles: [PROFILE], key });
  // A job for a device this edge does not have fails with a reason instead of hanging.
  cloud.add({ jobId: 'job-stranger', target: { kind: 'device', deviceId: 'sd-999' }, bytes: imageBytes(100, 12), version: '3.1.0', profiles: [PROFILE], key });
  // Not under the supervisor: the agent cannot switch releases, and says so.
  cloud.add({ jobId: 'job-edge', target: { kind: 'edge' }, bytes: imageBytes(100, 13), version: '9.9.9', profiles: ['gridsense-edge'], key });
  await waitFor('job done', () => (cloud.state('job-agent') === 'succeeded' ? true : undefined));
  t.equal(dev.version, '3.1.0');
  await waitFor('stranger failed', () => (cloud.state('job-stranger') === 'failed' ? true : undefined));
  t.match(cloud.stored('job-stranger').at(-1), { reason: { code: 'GS_ERR_FIRMWARE_UNSUPPORTED', message: /sd-999 is not configured/ } });
  await waitFor('edge job failed', () => (cloud.state('job-edge') === 'failed' ? true : undefined));
  t.match(cloud.stored('job-edge').at(-1), { reason: { code: 'GS_ERR_FIRMWARE_UNSUPPORTED', message: /supervisor/ }, runningVersion: String });
});
