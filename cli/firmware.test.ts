// The firmware commands as a release engineer and a technician run them, against a real cloud on
// loopback — keygen, sign, register the key, upload (and a damaged or re-labelled image refused), a
// campaign created, shown, paused, resumed, aborted. One upload runs the real `gridsense` binary as a
// child process (main.ts wiring, the bytes over the wire, exit codes); the rest runs the same
// commander commands (addFirmwareCommands) in this process, which costs no TypeScript compile per step.
import t from 'tap';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startCloud } from '../cloud/server.js';
import { keyIdOf, sha256Hex, verifyManifest } from '../contracts/firmware.js';
import { runCliInProcess, type CliRun } from './in-process.js';

const BIN = fileURLToPath(new URL('../bin/gridsense.js', import.meta.url));
const ADMIN = 'gsa_cli-firmware-admin-token';

type Ran = CliRun;

/** The real binary in a child process. */
function run(args: string[], env: Record<string, string> = {}): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { timeout: 60_000, env: { ...process.env, ...env } }, (error, out, err) => resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, out, err }));
  });
}

/** `gridsense firmware …` in this process (cli/in-process.ts): the same command tree, output captured. */
const cli = (args: string[]): Promise<Ran> => runCliInProcess(['firmware', ...args]);

t.test('keygen, sign, keys add, upload, campaign create/show/pause/resume/abort', async (t) => {
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
  const gen = await cli(['keygen', '--out', keys]);
  t.equal(gen.code, 0, gen.err);
  const priv = join(keys, 'firmware-signing.key');
  const pub = join(keys, 'firmware-signing.pub');
  t.equal(statSync(priv).mode & 0o777, 0o600, 'the private key is 0600');
  const keyId = keyIdOf(readFileSync(pub, 'utf8'));
  t.match(gen.out, `key ${keyId}`);
  const again = await cli(['keygen', '--out', keys]);
  t.equal(again.code, 2, 'an existing pair is not overwritten');
  t.match(again.err, /GS_ERR_CONFIG_INVALID: .*exists; pass --force/);

  const image = join(dir, 'gauge-2.0.0.bin');
  const bytes = Buffer.alloc(300_000, 7);
  writeFileSync(image, bytes);
  const signed = await cli(['sign', image, '--key', priv, '--version', '2.0.0', '--profile', 'generic/radar-water-level-gauge']);
  t.equal(signed.code, 0, signed.err);
  const sig = JSON.parse(readFileSync(`${image}.sig.json`, 'utf8')) as { manifest: { version: string; sha256: string; size: number; profiles: string[] }; signature: string; keyId: string };
  t.same(JSON.parse(signed.out), sig, 'printed and written alike');
  t.match(sig, { manifest: { version: '2.0.0', sha256: sha256Hex(bytes), size: bytes.length, profiles: ['generic/radar-water-level-gauge'] }, keyId });
  t.ok(verifyManifest(sig.manifest, sig.signature, [readFileSync(pub, 'utf8')]), 'the signature verifies with the public key');
  t.equal((await cli(['sign', image, '--key', pub, '--version', '2.0.0', '--profile', 'p'])).code, 2, 'signing with the public key is refused');

  // Against the cloud.
  for (const [k, v] of Object.entries(env)) {
    const before = process.env[k];
    process.env[k] = v;
    t.teardown(() => (before === undefined ? delete process.env[k] : (process.env[k] = before)));
  }
  const added = await cli(['keys', 'add', pub, '--name', 'county release 2026']);
  t.equal(added.code, 0, added.err);
  t.match(added.out, `key ${keyId} (county release 2026) registered`);
  t.match((await cli(['keys', 'list'])).out, new RegExp(`^${keyId}\tcounty release 2026\t.*\ttrusted$`, 'm'));

  const other = join(dir, 'other.bin');
  writeFileSync(other, Buffer.alloc(10, 1));
  const mismatch = await cli(['upload', other, '--sig', `${image}.sig.json`]);
  t.equal(mismatch.code, 2);
  t.match(mismatch.err, /GS_ERR_FIRMWARE_CHECKSUM: .*other.bin is not the image/);
  const relabelled = join(dir, 'relabelled.sig.json');
  writeFileSync(relabelled, JSON.stringify({ ...sig, manifest: { ...sig.manifest, version: '9.0.0' } }));
  const forged = await cli(['upload', image, '--sig', relabelled]);
  t.equal(forged.code, 2);
  t.match(forged.err, /GS_ERR_FIRMWARE_SIGNATURE/, 'the cloud refuses a signature relabelled to another version');

  // The one child process: the installed binary uploads the image.
  const up = await run(['firmware', 'upload', image], env);
  t.equal(up.code, 0, up.err);
  const artifact = /^artifact (\S+): version 2\.0\.0, 300000 bytes/m.exec(up.out)?.[1];
  t.ok(artifact, up.out);
  t.match((await cli(['artifacts'])).out, `${artifact}\t2.0.0\tgeneric/radar-water-level-gauge\t300000\t`);

  const created = await cli(['campaign', 'create', '--artifact', artifact!, '--name', 'gauges 2.0.0', '--waves', '0.5,1', '--jitter', '10m', '--window', '01:00-05:00', '--max-in-flight', '1', '--start']);
  t.equal(created.code, 0, created.err);
  t.match(created.out, /^campaign (\S+) \(gauges 2\.0\.0\): running 升级中/m);
  t.match(created.out, /jitter 600 s .* window 01:00-05:00 {3}per edge 1/);
  t.match(created.out, /▶ wave 1 {2}50% cumulative, 1 job\(s\)/);
  const id = /^campaign (\S+)/m.exec(created.out)![1]!;
  const badWindow = await cli(['campaign', 'create', '--artifact', artifact!, '--window', '1am-5am']);
  t.equal(badWindow.code, 2);
  t.match(badWindow.err, /GS_ERR_VALIDATION: --window "1am-5am" is not HH:MM-HH:MM/);
  t.equal((await cli(['campaign', 'pause', id])).out, `${id}: paused 已暂停, wave 1 of 2\n`);
  t.equal((await cli(['campaign', 'resume', id])).out, `${id}: running 升级中, wave 1 of 2\n`);
  t.equal((await cli(['campaign', 'abort', id])).out, `${id}: aborted 已中止, wave 1 of 2\n`);
  const shown = await cli(['campaign', 'show', id]);
  t.match(shown.out, /jobs {7}2 total: 0 succeeded, 0 failed, 0 to go \(0 under way\), 2 cancelled/);
  const jobs = (await cli(['campaign', 'jobs', id, '--state', 'cancelled'])).out.trim().split('\n');
  t.equal(jobs.length, 2);
  t.ok(jobs.every((l) => /\twave [12]\twl-[12]\ttown-a\tcancelled$/.test(l)), jobs.join('\n'));
  t.equal((await cli(['campaign', 'show', 'NOPE'])).code, 2, 'an unknown campaign');
});
