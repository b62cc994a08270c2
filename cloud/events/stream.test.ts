// The live stream over a real socket: a cloud listening on 127.0.0.1:0, a raw node:http client.
import t from 'tap';
import { request, type IncomingMessage } from 'node:http';
import { startCloud } from '../server.js';
import { ManualClock } from '../../contracts/clock.js';
import { ADMIN, envelope, SAMPLE_COUNTY } from '../test-support.js';

interface Frame {
  id?: string;
  event?: string;
  data?: string;
  comment?: string;
}

/** Connects, resolves once the response head arrived; frames collects every SSE block. */
function connect(url: string): Promise<{ res: IncomingMessage; frames: Frame[]; raw: () => string; next: (pred: (f: Frame) => boolean) => Promise<Frame> }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { accept: 'text/event-stream' } }, (res) => {
      const frames: Frame[] = [];
      let buf = '';
      let all = '';
      const waiters: Array<{ pred: (f: Frame) => boolean; done: (f: Frame) => void }> = [];
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buf += chunk;
        all += chunk;
        let sep: number;
        while ((sep = buf.indexOf('\n\n')) >= 0) {
          const f: Frame = {};
          for (const line of buf.slice(0, sep).split('\n')) {
            if (line.startsWith(':')) f.comment = line.slice(1).trim();
            else {
              const i = line.indexOf(':');
              const k = line.slice(0, i) as 'id' | 'event' | 'data';
              if (k === 'id' || k === 'event' || k === 'data') f[k] = line.slice(i + 1).trimStart();
            }
          }
          buf = buf.slice(sep + 2);
          frames.push(f);
          for (const w of [...waiters]) {
            if (!w.pred(f)) continue;
            waiters.splice(waiters.indexOf(w), 1);
            w.done(f);
          }
        }
      });
      const next = (pred: (f: Frame) => boolean) =>
        new Promise<Frame>((done, fail) => {
          const hit = frames.find(pred);
          if (hit) return done(hit);
          const timer = setTimeout(() => fail(new Error(`no such SSE frame; got ${JSON.stringify(frames)}`)), 5000);
          waiters.push({
            pred,
            done: (f) => {
              clearTimeout(timer);
              done(f);
            },
          });
        });
      resolve({ res, frames, raw: () => all, next });
    });
    req.on('error', reject);
    req.end();
  });
}

t.test('an ingest reaches a connected client as event.opened, then updated and cleared', async (t) => {
  const cloud = await startCloud({ port: 0, db: ':memory:', adminToken: ADMIN, clock: new ManualClock(), logger: false });
  t.teardown(() => cloud.close());
  t.match(cloud.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  const admin = { 'content-type': 'application/json', authorization: `Bearer ${ADMIN}` };
  await fetch(`${cloud.url}/api/v1/grids/import`, { method: 'POST', headers: admin, body: JSON.stringify(SAMPLE_COUNTY) });
  const { token } = (await (await fetch(`${cloud.url}/api/v1/edges`, { method: 'POST', headers: admin, body: JSON.stringify({ id: 'town-a', name: 'A' }) })).json()) as { token: string };
  const post = (alarms: unknown[]) =>
    fetch(`${cloud.url}/api/v1/alarms`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ alarms }) });

  const sse = await connect(`${cloud.url}/api/v1/events/stream`);
  t.equal(sse.res.statusCode, 200);
  t.match(sse.res.headers['content-type'], /^text\/event-stream/);
  await sse.next((f) => f.comment === 'connected');

  t.equal((await post([envelope({ alarmId: 'alarm-sse00001' })])).status, 200);
  const opened = await sse.next((f) => f.event === 'event.opened');
  const e = JSON.parse(opened.data!) as Record<string, unknown>;
  t.match(e, { deviceId: 'wl-qingquan-001', category: 'flood_control', categoryLabel: '防汛', status: 'reported', statusLabel: '上报', gridId: 'qingquan-riverside-g01', occurrenceCount: 1 });
  t.match(sse.raw(), /id: \d+\nevent: event\.opened\ndata: \{.*\}\n\n/, 'wire format');

  await post([envelope({ alarmId: 'alarm-sse00002' })]);
  const updated = await sse.next((f) => f.event === 'event.updated');
  t.equal((JSON.parse(updated.data!) as { occurrenceCount: number }).occurrenceCount, 2);
  await post([envelope({ alarmId: 'alarm-sse00001', seq: 1, action: 'clear' }), envelope({ alarmId: 'alarm-sse00002', seq: 1, action: 'clear' })]);
  const cleared = await sse.next((f) => f.event === 'event.cleared');
  t.ok((JSON.parse(cleared.data!) as { clearedAt: string | null }).clearedAt);
  const ids = sse.frames.filter((f) => f.id).map((f) => Number(f.id));
  t.same(ids, [...ids].sort((a, b) => a - b), 'ids increase');
  t.equal(new Set(ids).size, ids.length);

  await post([envelope({ alarmId: 'alarm-sse00001' })]);
  t.equal(sse.frames.filter((f) => f.event).length, 3, 'a retry publishes nothing');

  // Closing the cloud ends the stream instead of waiting for the client forever.
  const ended = new Promise<void>((resolve) => sse.res.on('close', () => resolve()));
  await cloud.close();
  await ended;
  t.pass('stream ended on close');
});

t.test('a client that disconnects is forgotten', async (t) => {
  const cloud = await startCloud({ port: 0, db: ':memory:', logger: false });
  t.teardown(() => cloud.close());
  const sse = await connect(`${cloud.url}/api/v1/events/stream`);
  await sse.next((f) => f.comment === 'connected');
  const bus = cloud.app.bus as unknown as { size: number };
  t.equal(bus.size, 1);
  sse.res.destroy();
  for (let i = 0; i < 50 && bus.size > 0; i++) await new Promise((r) => setTimeout(r, 10));
  t.equal(bus.size, 0, 'unsubscribed');
  const health = await fetch(`${cloud.url}/healthz`);
  t.equal(health.status, 200);
});
