// The fleet commands as a technician runs them, against a real cloud on loopback: the first through the
// real binary in a child process, the rest through the same command tree in this process (cli/in-process.ts).
import t from 'tap';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { startCloud } from '../cloud/server.js';
import { CloudSection } from '../edge/config-schema.js';
import { runCliInProcess } from './in-process.js';

const run = runCliInProcess;
const BIN = fileURLToPath(new URL('../bin/gridsense.js', import.meta.url));
const ADMIN = 'gsa_cli-fleet-admin-token';

/** The real binary in a child process (main.ts wiring, exit codes): used once; the rest runs in-process. */
function runBinary(args: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { timeout: 60_000, env: { ...process.env, ...env } }, (error, out, err) => resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, out, err }));
  });
}

t.test('enroll a box, register and import devices, read the morning summary, revoke', async (t) => {
  const cloud = await startCloud({ port: 0, db: ':memory:', adminToken: ADMIN, logger: false });
  t.teardown(() => cloud.close());
  const dir = mkdtempSync(join(tmpdir(), 'gs-cli-fleet-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const env = { GRIDSENSE_CLOUD_URL: cloud.url, GRIDSENSE_ADMIN_TOKEN: ADMIN };

  const issued = await runBinary(['edges', 'enroll-token', 'town-x', '--name', 'Town X'], env);
  t.equal(issued.code, 0, issued.err);
  const token = /^(gsn_\S+)$/m.exec(issued.out)?.[1];
  t.ok(token, 'the enrollment token is printed');
  t.match(issued.out, `gridsense edge enroll ${cloud.url} ${token}`);

  // On the box (no admin credential there).
  const box = join(dir, 'box');
  const enrolled = await run(['edge', 'enroll', cloud.url, token!, '--dir', box], { GRIDSENSE_ADMIN_TOKEN: '' });
  t.equal(enrolled.code, 0, enrolled.err);
  t.match(enrolled.out, /enrolled as edge town-x/);
  const tokenFile = join(box, 'edge-token');
  t.equal(statSync(tokenFile).mode & 0o777, 0o600, 'the token file is 0600');
  const edgeToken = readFileSync(tokenFile, 'utf8').trim();
  t.match(edgeToken, /^gse_/);
  t.same(parseYaml(readFileSync(join(box, 'edge.yaml'), 'utf8')), { edge: { id: 'town-x', dataDir: './data' }, cloud: { url: cloud.url, tokenFile: './edge-token', remoteConfig: true }, devices: [] });
  t.equal((await fetch(`${cloud.url}/api/v1/edges/config`, { headers: { authorization: `Bearer ${edgeToken}` } })).status, 200, 'the written token works');
  if ('remoteConfig' in CloudSection.properties) {
    const check = await run(['edge', '--config', join(box, 'edge.yaml'), '--check']);
    t.equal(check.code, 0, `gridsense edge --config accepts it: ${check.err}`);
  } else {
    t.comment('edge.yaml schema has no cloud.remoteConfig yet (edge side in progress): --check not run');
  }
  const twice = await run(['edge', 'enroll', cloud.url, token!, '--dir', box]);
  t.equal(twice.code, 2);
  t.match(twice.err, /GS_ERR_CONFIG_INVALID.*exists; pass --force/);
  const used = await run(['edge', 'enroll', cloud.url, token!, '--dir', box, '--force']);
  t.equal(used.code, 2);
  t.match(used.err, /GS_ERR_ENROLL_TOKEN_USED/);
  t.equal((await run(['edge'])).code, 1, '`edge` alone still asks for --config');

  const added = await run(['devices', 'add', 'wl-1', '--profile', 'generic/radar-water-level-gauge', '--edge', 'town-x', '--protocol', 'modbus-tcp', '--host', '10.0.0.5', '--port', '502', '--unit-id', '1', '--lon', '101.04', '--lat', '38.8', '--tag', 'flood'], env);
  t.equal(added.code, 0, added.err);
  t.match(added.out, /device wl-1 \(wl-1\): active, unknown/);
  t.match(added.out, /claim code [0-9A-Z]{4}-[0-9A-Z]{4}/);
  const mqtt = await run(['devices', 'add', 'sm-1', '--profile', 'generic/nb-smoke-detector', '--edge', 'town-x', '--protocol', 'mqtt'], env);
  t.match(mqtt.out, /MQTT login sm-1 \/ \S{24} .*shown this once/);

  const csv = join(dir, 'devices.csv');
  writeFileSync(csv, 'id,profile,edge,protocol,host,port,unitId\nwl-2,generic/radar-water-level-gauge,town-x,modbus-tcp,10.0.0.6,502,1\nwl-3,generic/radar-water-level-gauge,town-x,modbus-tcp,10.0.0.6,http,2\n');
  const bad = await run(['devices', 'import', csv], env);
  t.equal(bad.code, 2);
  t.match(bad.out, /✗ .*1 of 2 line\(s\) have errors; nothing was imported/);
  t.match(bad.out, /line 3: \/connection\/port: wl-3: must be a whole number/);
  const partial = await run(['devices', 'import', csv, '--partial'], env);
  t.equal(partial.code, 1, 'some lines failed');
  t.match(partial.out, /imported 1 device\(s\)\n {2}line 2\twl-2\tclaim /);
  t.match(partial.out, /✗ line 3 \(wl-3\): \/connection\/port/);

  const list = await run(['devices', 'list', '--edge', 'town-x'], env);
  t.same(list.out.trim().split('\n').map((l) => l.split('\t').slice(0, 3)), [['sm-1', 'active', 'unknown'], ['wl-1', 'active', 'unknown'], ['wl-2', 'active', 'unknown']]);
  const set = await run(['devices', 'set', 'wl-1', '--override', 'water-level-warning={"above":3.2,"clearBelow":3.0}'], env);
  t.equal(set.code, 0, set.err);
  const moved = await run(['devices', 'move', 'wl-2', '--lon', '101.1', '--lat', '38.8'], env);
  t.equal(moved.code, 0, moved.err);
  t.equal((await run(['devices', 'disable', 'sm-1'], env)).out, 'sm-1: disabled\n');

  // The edge reports; the morning summary names what is offline and why.
  const now = Date.now();
  const beat = await fetch(`${cloud.url}/api/v1/edges/heartbeat`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${edgeToken}` },
    body: JSON.stringify({
      version: '0.1.0', startedAt: now - 7_200_000, sentAt: now, outboxDepth: 3, deadLetters: 0, buses: [], configVersion: 5,
      devices: [
        { id: 'wl-1', profile: 'generic/radar-water-level-gauge', health: 'online', lastSeenAt: now },
        { id: 'wl-2', profile: 'generic/radar-water-level-gauge', health: 'offline', lastSeenAt: now - 600_000, lastError: 'timeout', batteryPercent: 9 },
      ],
    }),
  });
  t.equal(beat.status, 200);
  const summary = await run(['fleet', 'status'], env);
  t.equal(summary.code, 0, summary.err);
  t.match(summary.out, /all towns: 2 device\(s\): 1 online, 1 offline, 0 unknown \(1 disabled\)/);
  t.match(summary.out, /edge {7}town-x ONLINE {2}last beat \d+ s ago {2}up 2h 0m {2}v0.1.0 {2}outbox 3 {2}config 5\/\d+/);
  t.match(summary.out, /OFFLINE {4}wl-2 \(wl-2\) on town-x: last seen .* \(10 min ago\), timeout/);
  t.match(summary.out, /battery {4}wl-2 \(wl-2\) 9%/);
  const show = await run(['devices', 'show', 'wl-1'], env);
  t.match(show.out, /overrides {2}\{"water-level-warning":\{"above":3.2,"clearBelow":3\}\}/);
  const edgeShow = await run(['edges', 'show', 'town-x'], env);
  t.match(edgeShow.out, /edge town-x \(Town X\): online/);

  const revoked = await run(['edges', 'revoke', 'town-x'], env);
  t.equal(revoked.out, 'revoked town-x\n');
  t.equal((await fetch(`${cloud.url}/api/v1/edges/config`, { headers: { authorization: `Bearer ${edgeToken}` } })).status, 401, 'cut off at once');
});
