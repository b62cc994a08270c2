// `npm start` in a test: the demo wires cloud, edge and simulated gauges on embedded defaults, and a
// grid event becomes visible at GET /api/v1/events; stop() shuts everything (tap fails on a hang).
import t from 'tap';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDemo } from '../../demo/run-demo.js';
import { steady } from '../../demo/sim/water-level-gauge.js';
import { waitFor } from '../helpers/wait.js';
import { getJson, type EventJson } from './county.js';

t.test('the demo opens a 防汛 grid event from its simulated gauge', async (t) => {
  const lines: string[] = [];
  const demo = await startDemo({
    port: 0,
    dataDir: join(mkdtempSync(join(tmpdir(), 'gridsense-demo-')), 'demo'),
    scenario: steady(4.0), // already above the warning line: only the demo's 10 s hold stands between
    log: (l) => lines.push(l),
  });
  t.teardown(() => demo.stop());
  const events = await waitFor('a grid event', async () => {
    const r = await getJson<{ items: EventJson[] }>(`${demo.cloudUrl}/api/v1/events`, demo.apiKey);
    return r.items.length > 0 ? r.items : undefined;
  });
  t.equal(events[0]!.deviceId, 'wl-qingquan-001', 'the flooding gauge, not the steady one');
  t.equal(events[0]!.categoryLabel, '防汛');
  t.equal(events[0]!.gridId, 'qingquan-riverside-g01');
  await waitFor('the console line', () => lines.find((l) => l.includes('event.opened')));
  t.ok(lines.some((l) => l.includes('event.opened')), 'the console shows the event as it opens');
});
