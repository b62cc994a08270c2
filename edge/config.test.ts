import t from 'tap';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { GsError } from '../contracts/errors.js';
import { loadEdgeConfig, parseEdgeConfig } from './config.js';

const GOOD = `
edge:
  id: town-qingquan
  dataDir: ./data/edge
cloud:
  url: http://127.0.0.1:8080/
  token: gse_test
rules: [water-level.yaml]
devices:
  - id: wl-qingquan-001
    name: Qingquan bridge gauge
    profile: generic/radar-water-level-gauge
    connection: { protocol: modbus-tcp, host: 127.0.0.1, port: 502, unitId: 1, timeout: 1s }
    location: { lon: 100.78, lat: 38.79 }
    site: bridge
    pollInterval: 1s
    overrides: { water-level-warning: { above: 3.2, clearBelow: 3.0 } }
`;

function dir(t: { teardown(fn: () => void): void }): string {
  const d = mkdtempSync(join(tmpdir(), 'gs-config-'));
  t.teardown(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

const invalid = (t: Tap, text: string, file = '/etc/gridsense/edge.yaml'): GsError => t.throws(() => parseEdgeConfig(text, file)) as unknown as GsError;
type Tap = { throws: (fn: () => unknown) => unknown };

t.test('a good config resolves paths, defaults and rule files', async (t) => {
  const c = parseEdgeConfig(GOOD, '/etc/gridsense/edge.yaml');
  t.equal(c.edge.dataDir, '/etc/gridsense/data/edge', 'dataDir relative to the config file');
  t.equal(c.cloud.url, 'http://127.0.0.1:8080', 'trailing slash dropped');
  t.equal(c.cloud.batchSize, 100);
  t.match(c.telemetry, { type: 'sqlite', retentionMs: 7 * 86_400_000, batchSize: 500, flushIntervalMs: 1000 });
  t.equal(c.devices.length, 1);
  t.match(c.devices[0], { id: 'wl-qingquan-001', pollIntervalMs: 1000, site: 'bridge', location: { lon: 100.78, lat: 38.79 } });
  t.equal(c.ruleFiles.length, 1, 'config rules and the profile default name the same file once');
  t.match(c.ruleFiles[0], /rules\/library\/water-level\.yaml$/);
});

t.test('tokenFile and extra profile folders resolve against the config folder', async (t) => {
  const d = dir(t);
  writeFileSync(join(d, 'edge.token'), 'gse_from_file\n');
  mkdirSync(join(d, 'profiles/acme'), { recursive: true });
  writeFileSync(join(d, 'profiles/acme/x1.yaml'), `
id: acme/x1
vendor: acme
model: X1
name: X1
kind: smoke
protocol: modbus
points:
  - { name: alarm, type: boolean, modbus: { table: coil, address: 0, dataType: bool } }
`);
  writeFileSync(join(d, 'edge.yaml'), GOOD.replace('token: gse_test', 'tokenFile: ./edge.token')
    .replace('rules: [water-level.yaml]', 'rules: [water-level.yaml]\nprofiles: [./profiles]')
    .replace(/overrides:.*\n/, '') + `
  - id: smoke-1
    profile: acme/x1
    connection: { protocol: modbus-tcp, host: 10.0.0.9 }
`);
  const c = loadEdgeConfig(join(d, 'edge.yaml'));
  t.equal(c.cloud.token, 'gse_from_file');
  t.equal(c.devices[1]!.profile, 'acme/x1');
  t.equal(c.devices[1]!.pollIntervalMs, 10_000, 'default poll interval');
  t.equal(c.profileDirs.at(-1), join(d, 'profiles'));
});

t.test('an unreadable file is GS_ERR_CONFIG_READ', async (t) => {
  const err = t.throws(() => loadEdgeConfig('/nonexistent/edge.yaml')) as unknown as GsError;
  t.equal(err.code, 'GS_ERR_CONFIG_READ');
  t.match(err.details[0], { file: '/nonexistent/edge.yaml' });
});

t.test('broken YAML is GS_ERR_CONFIG_YAML with line and column', async (t) => {
  const err = invalid(t, 'edge:\n  id: x\ndevices: [unclosed\n');
  t.equal(err.code, 'GS_ERR_CONFIG_YAML');
  t.match(err.details[0]!.message, /^line \d+, column \d+: /);
  t.equal(err.details[0]!.file, '/etc/gridsense/edge.yaml');
});

t.test('every problem is listed at once, each with file, path and line', async (t) => {
  const text = `${GOOD}
  - id: wl-qingquan-001
    profile: generic/radar-gauge
    connection: { protocol: modbus-tcp, port: 70000 }
    pollInterval: 1 sec
  - id: wl-3
    profile: generic/radar-water-level-gauge
    connection: { protocol: bacnet, host: x }
    overrides: { water-level-warnin: { above: 3 } }
  - id: wl-4
    profile: generic/radar-water-level-gauge
    connection: { protocol: modbus-tcp, host: x }
    overrides: { water-level-warning: { above: 2.0, colour: red } }
`.replace('rules: [water-level.yaml]', 'rules: [water-level.yaml, no-such-rules.yaml]');
  const err = invalid(t, text);
  t.equal(err.code, 'GS_ERR_CONFIG_INVALID');
  const at = (path: string | RegExp, message: RegExp) =>
    t.ok(err.details.some((d) => (typeof path === 'string' ? d.path === path : path.test(d.path)) && message.test(d.message) && d.file !== undefined),
      `${String(path)}: ${message}`);
  at('/devices/1/id', /duplicate device id "wl-qingquan-001" \(also \/devices\/0\)/);
  at('/devices/1/profile', /unknown device profile "generic\/radar-gauge" \(closest known: generic\/radar-water-level-gauge, /);
  at('/devices/1/pollInterval', /./);
  at('/devices/1/connection', /host/);
  at('/devices/1/connection/port', /./);
  at('/devices/2/connection/protocol', /no driver for "bacnet"/);
  at('/devices/2/overrides/water-level-warnin', /no loaded rule has this id/);
  at('/devices/3/overrides/water-level-warning/colour', /./);
  at(/^\/rules\/1/, /no-such-rules/);
  t.ok(err.details.filter((d) => d.file === '/etc/gridsense/edge.yaml').every((d) => /\(line \d+\)$/.test(d.message)), 'config problems carry their line');
  t.match(err.describe(), /GS_ERR_CONFIG_INVALID/);
});

t.test('schema problems: unknown fields, missing sections, token rules', async (t) => {
  const err = invalid(t, `
edge: { id: x, dataDir: d, colour: red }
cloud: { url: ftp://x, token: a, tokenFile: b }
telemetry: { type: influxdb, retention: 7 days }
devices: []
`);
  const paths = err.details.map((d) => d.path);
  t.ok(paths.includes('/edge/colour') || paths.includes('/edge'), 'unknown field reported');
  t.ok(paths.includes('/cloud/url'), 'bad url');
  t.ok(paths.includes('/cloud'), 'token and tokenFile together');
  t.ok(paths.includes('/telemetry'), 'influxdb without its block');
  t.ok(paths.some((p) => p.startsWith('/telemetry/retention')), 'bad duration');
  const missing = invalid(t, 'edge: { id: x, dataDir: d }\ndevices: []\n');
  t.ok(missing.details.some((d) => /cloud/.test(d.message) || d.path === '/cloud'), 'missing cloud section');
});
