// The firmware commands as a release engineer and a technician run them: child processes against a
// real cloud on loopback — keygen, sign, register the key, upload (and a damaged or re-labelled
// image refused), a campaign created, shown, paused, resumed, aborted.
import t from 'tap';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startCloud } from '../cloud/server.js';
import { keyIdOf, sha256Hex, verifyManifest } from '../contracts/firmware.js';

const BIN = fileURLToPath(new URL('../bin/gridsense.js', import.meta.url));
const ADMIN = 'gsa_cli-firmware-admin-token';

function run(args: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { timeout: 60_000, env: { ...process.env, ...env } }, (error, out, err) => resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, out, err }));
  });
}

// A dozen CLI processes, each compiling TypeScript on start: slow on a busy machine.
t.setTimeout(300_000);

t.test('keygen, sign, keys add, upload, campaign create/show/pause/resume/abort', async (t) => {
  t.setTimeout(280_000);
  process.env.GRIDSENSE_FIRMWARE_SWEEP_MS = '0';
  const cloud = await startCloud({ port: 0, db: ':memory:', adminToken: ADMIN, logger: false });
  t.teardown(() => cloud.close());
  const dir = mkdtempSync(join(tmpdir(), 'gs-cli-fw-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const env = { GRIDSENSE_CLOUD_URL: cloud.url, GRIDSENSE_ADMIN_TOKEN: ADMIN };
  const admin = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${cloud.url}${path}`, { method, headers: { authorization: `Bearer ${ADMIN}`, ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}) });
    if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
    return res.json() as Promise<unknown>;
  };
  await admin('POST', '/api/v1/edges', { id: 'town-a', name: 'Town A' });
  for (const id of ['wl-1', 'wl-2']) await admin('POST', '/api/v1/devices', { id, profile: 'generic/radar-water-level-gauge', edge: 'town-a', connection: { protocol: 'modbus-tcp', host: '10.0.0.5', port: 502, unitId: 1 } });

  // On the release machine: no cloud needed.
  const keys = join(dir, 'keys');
  const gen = await run(['firmware', 'keygen', '--out', keys]);
  t.equal(gen.code, 0, gen.err);
  const priv = join(keys, 'firmware-signing.key');
  const pub = join(keys, 'firmware-signing.pub');
  t.equal(statSync(priv).mode & 0o777, 0o600, 'the private key is 0600');
  const keyId = keyIdOf(readFileSync(pub, 'utf8'));
  t.match(gen.out, `key ${keyId}`);
  t.equal((await run(['firmware', 'keygen', '--out', keys])).code, 2, 'an existing pair is not overwritten');

  const image = join(dir, 'gauge-2.0.0.bin');
  const bytes = Buffer.alloc(300_000, 7);
  writeFileSync(image, bytes);
  const signed = await run(['firmware', 'sign', image, '--key', priv, '--version', '2.0.0', '--profile', 'generic/radar-water-level-gauge']);
  t.equal(signed.code, 0, signed.err);
  const sig = JSON.parse(readFileSync(`${image}.sig.json`, 'utf8')) as { manifest: { version: string; sha256: string; size: number; profiles: string[] }; signature: string; keyId: string };
  t.same(JSON.parse(signed.out), sig, 'printed and written alike');
  t.match(sig, { manifest: { version: '2.0.0', sha256: sha256Hex(bytes), size: bytes.length, profiles: ['generic/radar-water-level-gauge'] }, keyId });
  t.ok(verifyManifest(sig.manifest, sig.signature, [readFileSync(pub, 'utf8')]), 'the signature verifies with the public key');

  // Against the cloud.
  const added = await run(['firmware', 'keys', 'add', pub, '--name', 'county release 2026'], env);
  t.equal(added.code, 0, added.err);
  t.match(added.out, `key ${keyId} (county release 2026) registered`);

  const other = join(dir, 'other.bin');
  writeFileSync(other, Buffer.alloc(10, 1));
  const mismatch = await run(['firmware', 'upload', other, '--sig', `${image}.sig.json`], env);
  t.equal(mismatch.code, 2);
  t.match(mismatch.err, /GS_ERR_FIRMWARE_CHECKSUM: .*other.bin is not the image/);
  const relabelled = join(dir, 'relabelled.sig.json');
  writeFileSync(relabelled, JSON.stringify({ ...sig, manifest: { ...sig.manifest, version: '9.0.0' } }));
  const forged = await run(['firmware', 'upload', image, '--sig', relabelled], env);
  t.equal(forged.code, 2);
  t.match(forged.err, /GS_ERR_FIRMWARE_SIGNATURE/, 'the cloud refuses a signature relabelled to another version');

  const up = await run(['firmware', 'upload', image], env);
  t.equal(up.code, 0, up.err);
  const artifact = /^artifact (\S+): version 2\.0\.0, 300000 bytes/m.exec(up.out)?.[1];
  t.ok(artifact, up.out);

  const created = await run(['firmware', 'campaign', 'create', '--artifact', artifact!, '--name', 'gauges 2.0.0', '--waves', '0.5,1', '--jitter', '10m', '--window', '01:00-05:00', '--max-in-flight', '1', '--start'], env);
  t.equal(created.code, 0, created.err);
  t.match(created.out, /^campaign (\S+) \(gauges 2\.0\.0\): running 升级中/m);
  t.match(created.out, /jitter 600 s .* window 01:00-05:00 {3}per edge 1/);
  t.match(created.out, /▶ wave 1 {2}50% cumulative, 1 job\(s\)/);
  const id = /^campaign (\S+)/m.exec(created.out)![1]!;
  t.equal((await run(['firmware', 'campaign', 'pause', id], env)).out, `${id}: paused 已暂停, wave 1 of 2\n`);
  t.equal((await run(['firmware', 'campaign', 'resume', id], env)).out, `${id}: running 升级中, wave 1 of 2\n`);
  t.equal((await run(['firmware', 'campaign', 'abort', id], env)).out, `${id}: aborted 已中止, wave 1 of 2\n`);
  const shown = await run(['firmware', 'campaign', 'show', id], env);
  t.match(shown.out, /jobs {7}2 total: 0 succeeded, 0 failed, 0 to go \(0 under way\), 2 cancelled/);
});
