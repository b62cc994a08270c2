// edge.yaml's resilience settings: telemetry type influxdb2, summaryInterval, outbox.maxBytes,
// cloud.replayRatePerS — defaults, good values, and each bad one reported with its path.
import t from 'tap';
import { parseEdgeConfig } from './config.js';
import { byteSize } from './config-check.js';

const FILE = '/etc/gridsense/edge.yaml';
const BASE = `
edge: { id: town-qingquan, dataDir: ./data }
cloud: { url: 'http://127.0.0.1:8080', token: gse_test }
devices: []
`;
const problems = (text: string) => {
  try {
    parseEdgeConfig(text, FILE);
  } catch (err) {
    return (err as { code: string; details: Array<{ path: string; message: string }> }).details.map((d) => `${d.path}: ${d.message}`);
  }
  throw new Error('expected the config to be refused');
};

t.test('defaults: summaries every 5 minutes, a 256 MiB outbox quota, replay at 200 alarms/s', async (t) => {
  const c = parseEdgeConfig(BASE, FILE);
  t.equal(c.telemetry.summaryIntervalMs, 300_000);
  t.same(c.outbox, { maxBytes: 256 * 1024 * 1024 });
  t.equal(c.cloud.replayRatePerS, 200);
});

t.test('good values', async (t) => {
  const c = parseEdgeConfig(
    `${BASE}
telemetry:
  type: influxdb2
  influxdb2: { url: 'http://127.0.0.1:8086', token: tok, org: county, bucket: gridsense }
  summaryInterval: off
outbox: { maxBytes: 64MB }
`.replace("cloud: { url: 'http://127.0.0.1:8080', token: gse_test }", "cloud: { url: 'http://127.0.0.1:8080', token: gse_test, replayRatePerS: 50 }"),
    FILE,
  );
  t.equal(c.telemetry.type, 'influxdb2');
  t.same(c.telemetry.influxdb2, { url: 'http://127.0.0.1:8086', token: 'tok', org: 'county', bucket: 'gridsense' });
  t.equal(c.telemetry.summaryIntervalMs, 0, 'off');
  t.same(c.outbox, { maxBytes: 64 * 1024 * 1024 });
  t.equal(c.cloud.replayRatePerS, 50);
  t.equal(byteSize('1.5 KB'), 1536);
  t.equal(byteSize(1000), 1000);
  t.equal(byteSize('lots'), undefined);
});

t.test('bad values are refused with their paths', async (t) => {
  t.match(problems(`${BASE}telemetry: { type: influxdb2 }\n`), [/^\/telemetry: type influxdb2 needs an "influxdb2" block/]);
  t.match(problems(`${BASE}telemetry: { type: influxdb2, influxdb2: { url: 'http://x', org: o, bucket: b } }\n`).join('\n'), /\/telemetry\/influxdb2.*token/);
  t.match(problems(`${BASE}telemetry: { summaryInterval: sometimes }\n`).join('\n'), /\/telemetry\/summaryInterval: must be a duration such as 5m, 1h, or "off"/);
  t.match(problems(`${BASE}telemetry: { summaryInterval: 10ms }\n`).join('\n'), /\/telemetry\/summaryInterval: must be at least 1s/);
  t.match(problems(`${BASE}outbox: { maxBytes: lots }\n`).join('\n'), /\/outbox\/maxBytes: must be a size in bytes/);
  t.match(problems(`${BASE}outbox: { maxBytes: 0 }\n`).join('\n'), /\/outbox\/maxBytes/);
  t.match(problems(`${BASE}outbox: { quota: 1 }\n`).join('\n'), /\/outbox/);
  t.match(problems(BASE.replace('token: gse_test', 'token: gse_test, replayRatePerS: 0')).join('\n'), /\/cloud\/replayRatePerS/);
});
