// The Node-RED editor embedded in a real edge: it listens on loopback, refuses the admin API without a
// login, logs in with the bcrypt hash from edge.yaml, loads node-red-contrib-gridsense from this repo,
// and a flow deployed through its admin API turns MQTT readings into alarms in the SQLite outbox.
import t from 'tap';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { silentLogger } from '../log.js';
import { freePort } from '../../test/helpers/services.js';
import { waitFor } from '../../test/helpers/wait.js';
import { EdgeBridge } from './bridge.js';
import { EmbeddedNodeRed } from './embedded.js';
import { hashAdminPassword } from './password.js';
import { nodeRedPlan } from './run.js';
import { runEdge } from '../run-edge.js';
import { edgeRig, GAUGE } from './test-rig.js';

const PASSWORD = 'edge-nr-secret';
// Cost 4: the test checks the login path, not bcrypt's cost.
const HASH = await hashAdminPassword(PASSWORD, 4);
const BIN = fileURLToPath(new URL('../../bin/gridsense.js', import.meta.url));
const NODE_RED_YAML = `nodeRed: { port: 0, adminUser: technician, adminPasswordHash: "${HASH}" }\n`;

async function token(base: string, password: string): Promise<Response> {
  return fetch(`${base}/auth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ client_id: 'node-red-admin', grant_type: 'password', scope: '*', username: 'technician', password }),
  });
}

t.test('`gridsense edge run --node-red`: loopback, 401 without a login, a login with the configured password, a deployed flow raises alarms, SIGTERM stops both', async (t) => {
  // The editor runs in the CLI's own process: after a login Node-RED keeps a session-expiry timer
  // that RED.stop() does not clear, which the CLI answers with process.exit (see cli/commands/node-red.ts).
  const brokerPort = await freePort();
  const edge = await edgeRig(t, { extraYaml: NODE_RED_YAML, brokerPort });
  const plan = nodeRedPlan(edge.agent.config, { enabled: true });
  t.match(plan, { host: '127.0.0.1', port: 0, admin: { user: 'technician', passwordHash: HASH } });
  // The rig's agent made the data folder and the outbox; the CLI's edge takes them over.
  await edge.agent.stop();
  const child = spawn(process.execPath, [BIN, 'edge', 'run', '-c', join(edge.dir, 'edge.yaml'), '--node-red', '--no-watch'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, GRIDSENSE_LOG_LEVEL: 'info' } });
  t.teardown(() => void child.kill('SIGKILL'));
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const base = await waitFor('the editor listening', () => /"url":"(http:\/\/[^"]+)"[^\n]*Node-RED editor listening/.exec(out)?.[1], 60_000);
  t.match(base, /^http:\/\/127\.0\.0\.1:\d+$/, 'listens on loopback');

  t.equal((await fetch(`${base}/flows`)).status, 401, 'GET /flows without a login');
  t.equal((await fetch(`${base}/flows`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '[]' })).status, 401, 'POST /flows without a login');
  t.equal((await fetch(`${base}/nodes`, { headers: { accept: 'application/json' } })).status, 401, 'GET /nodes without a login');
  t.equal((await fetch(`${base}/flows`, { headers: { authorization: 'Bearer not-a-token' } })).status, 401, 'a made-up token');
  t.equal((await fetch(`${base}/api/anything`)).status, 401, 'HTTP-in endpoints of flows ask for the login too');
  const basic = (user: string, pw: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${pw}`).toString('base64')}` });
  t.equal((await fetch(`${base}/api/anything`, { headers: basic('technician', 'nope') })).status, 401, 'and refuse a wrong password');
  t.equal((await fetch(`${base}/api/anything`, { headers: basic('technician', PASSWORD) })).status, 404, 'the login passes (no flow serves the path)');
  t.equal((await token(base, 'not-the-password')).status, 403, 'a wrong password gets no token');

  const login = await token(base, PASSWORD);
  t.equal(login.status, 200, 'POST /auth/token with the configured password');
  const { access_token: bearer } = (await login.json()) as { access_token: string };
  const auth = { authorization: `Bearer ${bearer}` };
  const nodes = (await (await fetch(`${base}/nodes`, { headers: { ...auth, accept: 'application/json' } })).json()) as Array<{ id: string; module: string; enabled: boolean; err?: string }>;
  const ours = nodes.filter((n) => n.module === 'node-red-contrib-gridsense');
  t.same(ours.map((n) => [n.id, n.enabled, n.err]).sort(), [
    ['node-red-contrib-gridsense/gridsense-alarm', true, undefined],
    ['node-red-contrib-gridsense/gridsense-readings', true, undefined],
    ['node-red-contrib-gridsense/gridsense-rule', true, undefined],
  ], 'the node package in this repo is loaded, every node without error');

  // A technician's flow, deployed as the editor deploys it: readings → switch → alarm nodes.
  const flow = [
    { id: 'tab1', type: 'tab', label: 'water level' },
    { id: 'in1', z: 'tab1', type: 'gridsense-readings', device: GAUGE, point: 'water_level', quality: 'good', wires: [['sw1']] },
    {
      id: 'sw1', z: 'tab1', type: 'switch', property: 'payload', propertyType: 'msg', checkall: 'true', outputs: 2,
      rules: [{ t: 'gt', v: '3.5', vt: 'num' }, { t: 'lt', v: '3.3', vt: 'num' }], wires: [['a1'], ['a2']],
    },
    { id: 'a1', z: 'tab1', type: 'gridsense-alarm', action: 'raise', alarmType: 'water_level_high', severity: 'major', wires: [[]] },
    { id: 'a2', z: 'tab1', type: 'gridsense-alarm', action: 'clear', alarmType: 'water_level_high', severity: 'major', wires: [[]] },
  ];
  const deploy = await fetch(`${base}/flows`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json', 'node-red-deployment-type': 'full' }, body: JSON.stringify(flow) });
  t.equal(deploy.status, 204, 'deploy with the token');
  await waitFor('the flow started', async () => {
    const r = await fetch(`${base}/flows/state`, { headers: auth });
    return r.status === 200 && ((await r.json()) as { state?: string }).state === 'start' ? true : undefined;
  });
  for (const level of [3.0, 3.6, 3.8, 3.4, 3.1]) await edge.publish(level, { wait: false });
  await waitFor('raise and clear in the outbox', () => (edge.outbox().length === 2 ? true : undefined));
  t.same(edge.outbox().map((e) => [e.action, e.seq, e.type, e.value]), [['raise', 0, 'water_level_high', 3.6], ['clear', 1, 'water_level_high', 3.1]]);

  child.kill('SIGTERM');
  t.equal(await exited, 0, 'exits 0 on SIGTERM');
  t.match(out, /"msg":"edge agent stopped"/, 'the agent stopped cleanly');
});

t.test('the editor refuses to start without a login off loopback, and reports a port in use', async (t) => {
  const bridge = new EdgeBridge({ config: { devices: [], profileDirs: [] }, tap: () => () => undefined, putAlarms: () => undefined, loadState: () => undefined });
  const open = new EmbeddedNodeRed({ settings: { enabled: true, host: '0.0.0.0', port: 0 }, dataDir: t.testdir(), bridge, logger: silentLogger() });
  await t.rejects(open.start(), { code: 'GS_ERR_NODE_RED_AUTH' });

  const busy = createServer();
  await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => busy.close(() => r())));
  const port = (busy.address() as { port: number }).port;
  const taken = new EmbeddedNodeRed({ settings: { enabled: true, host: '127.0.0.1', port, admin: { user: 'technician', passwordHash: HASH } }, dataDir: t.testdir(), bridge, logger: silentLogger() });
  await t.rejects(taken.start(), { code: 'GS_ERR_NODE_RED_START', message: new RegExp(`127\\.0\\.0\\.1:${port}`) });
});

t.test('runEdge with the editor asked for but no nodeRed section refuses before starting anything', async (t) => {
  const edge = await edgeRig(t);
  await edge.agent.stop();
  await t.rejects(runEdge(join(edge.dir, 'edge.yaml'), { watch: false, nodeRed: { enabled: true }, logger: silentLogger() }), {
    code: 'GS_ERR_NODE_RED_AUTH',
    message: /has no nodeRed section/,
  });
  t.equal(edge.agent.status().running, false);
});
