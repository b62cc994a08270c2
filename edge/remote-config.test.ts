// The edge's remote-configuration client against a stand-in for the cloud's two routes (a node:http
// server speaking contracts/edge-config.ts: ETag = version, 304 when If-None-Match matches). The real
// cloud routes are exercised end to end in test/e2e/remote-config.test.ts; here the stand-in lets the
// test decide exactly what each poll returns.
import t from 'tap';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify as toYaml } from 'yaml';
import type { ConfigReport, DesiredConfig } from '../contracts/edge-config.js';
import { waitFor } from '../test/helpers/wait.js';
import { EdgeAgent } from './agent.js';
import { loadEdgeConfig } from './config.js';
import { silentLogger } from './log.js';
import { readCachedDesired, RemoteConfigClient } from './remote-config.js';
import { systemScheduler } from './scheduler.js';

t.test('applies what the cloud holds, reports a rejected config with its problems, keeps the last good one', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'gs-remote-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  let desired: DesiredConfig | undefined;
  const reports: ConfigReport[] = [];
  const seenTags: string[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      if (req.url?.startsWith('/api/v1/edges/config/status')) {
        reports.push(JSON.parse(body) as ConfigReport);
        res.writeHead(204).end();
      } else if (req.url?.startsWith('/api/v1/edges/config')) {
        seenTags.push(String(req.headers['if-none-match'] ?? ''));
        if (!desired || req.headers['if-none-match'] === `"${desired.version}"`) {
          setTimeout(() => res.writeHead(304).end(), 20); // a long-poll that ran out, shortened
        } else {
          res.writeHead(200, { 'content-type': 'application/json', etag: `"${desired.version}"` }).end(JSON.stringify(desired));
        }
      } else {
        res.writeHead(204).end(); // heartbeats, alarms
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const file = join(dir, 'edge.yaml');
  writeFileSync(file, toYaml({ edge: { id: 'town-remote', dataDir: './data' }, cloud: { url, token: 'gse_remote', remoteConfig: true }, devices: [] }));
  const agent = new EdgeAgent(loadEdgeConfig(file), { logger: silentLogger() });
  await agent.start();
  t.teardown(() => agent.stop());
  const client = new RemoteConfigClient({ agent, localFile: file, scheduler: systemScheduler, random: () => 0, logger: silentLogger(), waitS: 1 });
  client.start();
  t.teardown(() => client.stop());

  // Port 1 refuses at once: the devices need no peer here.
  const device = (id: string, profile = 'generic/radar-water-level-gauge') => ({ id, profile, connection: { protocol: 'modbus-tcp', host: '127.0.0.1', port: 1 }, overrides: { 'water-level-warning': { above: 2.9, clearBelow: 2.7 } } });
  desired = { version: 1, rules: ['water-level.yaml'], devices: [device('wl-1')] };
  await waitFor('version 1 applied', () => reports.find((r) => r.version === 1));
  t.same(reports.at(-1), { version: 1, applied: true });
  t.same(agent.status().devices.map((d) => d.deviceId), ['wl-1']);
  t.equal(agent.configVersion, 1);
  t.equal(readCachedDesired(agent.config.edge.dataDir)?.version, 1, 'kept on disk for a reboot without uplink');

  desired = { version: 2, rules: ['water-level.yaml'], devices: [device('wl-1'), device('wl-2', 'generic/no-such-gauge')] };
  const rejected = await waitFor('version 2 reported', () => reports.find((r) => r.version === 2));
  t.equal(rejected.applied, false);
  t.match(rejected.error, { code: 'GS_ERR_CONFIG_INVALID', details: [{ path: '/devices/1/profile', message: /unknown device profile/ }] });
  t.same(agent.status().devices.map((d) => d.deviceId), ['wl-1'], 'the last good configuration keeps running');
  t.equal(agent.configVersion, 1);

  desired = { version: 3, rules: ['water-level.yaml'], devices: [device('wl-1'), device('wl-3')] };
  await waitFor('version 3 applied', () => reports.find((r) => r.version === 3));
  t.same(agent.status().devices.map((d) => d.deviceId), ['wl-1', 'wl-3']);
  t.ok(seenTags.includes('"3"') || seenTags.includes('"2"'), 'polls carry the version they run as If-None-Match');
  t.equal(reports.filter((r) => r.version === 2).length, 1, 'a rejected version is not retried in a loop');
});
