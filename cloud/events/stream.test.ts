// The live stream over a real socket: a cloud listening on 127.0.0.1:0, a raw node:http client; on
// SQLite, or on PostgreSQL under GRIDSENSE_TEST_PG.
import t from 'tap';
import { request, type IncomingMessage } from 'node:http';
import { startCloud } from '../server.js';
import { ManualClock } from '../../contracts/clock.js';
import { ADMIN, envelope, SAMPLE_COUNTY, TEST_PG, testDatabase } from '../test-support.js';

interface Frame {
  id?: string;
  event?: string;
  data?: string;
  comment?: string;
}

/** Connects, resolves once the response head arrived; frames collects every SSE block. */
function connect(url: string, headers: Record<string, string> = {}): Promise<{ res: IncomingMessage; frames: Frame[]; raw: () => string; next: (pred: (f: Frame) => boolean) => Promise<Frame> }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { accept: 'text/event-stream', authorization: `Bearer ${ADMIN}`, ...headers } }, (res) => {
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
  const cloud = await startCloud({ port: 0, db: await testDatabase(t), adminToken: ADMIN, clock: new ManualClock(), logger: false });
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
  const cloud = await startCloud({ port: 0, db: await testDatabase(t), adminToken: ADMIN, logger: false });
  t.teardown(() => cloud.close());
  const bus = cloud.app.bus as unknown as { size: number };
  const before = bus.size; // the webhook dispatcher listens too
  const sse = await connect(`${cloud.url}/api/v1/events/stream`);
  await sse.next((f) => f.comment === 'connected');
  t.equal(bus.size, before + 1);
  sse.res.destroy();
  for (let i = 0; i < 50 && bus.size > before; i++) await new Promise((r) => setTimeout(r, 10));
  t.equal(bus.size, before, 'unsubscribed');
  const health = await fetch(`${cloud.url}/healthz`);
  t.equal(health.status, 200);
});

async function county(cloudUrl: string): Promise<(alarms: unknown[]) => Promise<Response>> {
  const admin = { 'content-type': 'application/json', authorization: `Bearer ${ADMIN}` };
  await fetch(`${cloudUrl}/api/v1/grids/import`, { method: 'POST', headers: admin, body: JSON.stringify(SAMPLE_COUNTY) });
  const { token } = (await (await fetch(`${cloudUrl}/api/v1/edges`, { method: 'POST', headers: admin, body: JSON.stringify({ id: 'town-a', name: 'A' }) })).json()) as { token: string };
  return (alarms) => fetch(`${cloudUrl}/api/v1/alarms`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ alarms }) });
}

t.test('a client that reconnects with Last-Event-ID gets what it missed, in order, then live, nothing twice', async (t) => {
  const cloud = await startCloud({ port: 0, db: await testDatabase(t), adminToken: ADMIN, clock: new ManualClock(), logger: false, feedPollMs: 0 });
  t.teardown(() => cloud.close());
  const post = await county(cloud.url);
  const first = await connect(`${cloud.url}/api/v1/events/stream`);
  await first.next((f) => f.comment === 'connected');
  await post([envelope({ alarmId: 'alarm-res00001' })]);
  const seen = await first.next((f) => f.event === 'event.opened');
  first.res.destroy();

  // While it is away: a repeat, another device's event, and the clear.
  await post([envelope({ alarmId: 'alarm-res00002' })]);
  await post([envelope({ alarmId: 'alarm-res00003', deviceId: 'wl-other' })]);
  await post([envelope({ alarmId: 'alarm-res00001', seq: 1, action: 'clear' }), envelope({ alarmId: 'alarm-res00002', seq: 1, action: 'clear' })]);

  const again = await connect(`${cloud.url}/api/v1/events/stream`, { 'last-event-id': seen.id! });
  const missed = await again.next((f) => f.event === 'event.cleared');
  t.ok(missed);
  await post([envelope({ alarmId: 'alarm-res00004', deviceId: 'wl-third' })]);
  await again.next((f) => f.event === 'event.opened' && (JSON.parse(f.data!) as { deviceId: string }).deviceId === 'wl-third');
  const got = again.frames.filter((f) => f.event).map((f) => `${f.event} ${(JSON.parse(f.data!) as { deviceId: string }).deviceId}`);
  t.same(got, ['event.updated wl-qingquan-001', 'event.opened wl-other', 'event.cleared wl-qingquan-001', 'event.opened wl-third'], 'the missed three, then live');
  const ids = again.frames.filter((f) => f.id).map((f) => Number(f.id));
  t.ok(ids.every((id, i) => id > Number(seen.id) && (i === 0 || id > ids[i - 1]!)), 'after the resume point, increasing');

  const bad = await fetch(`${cloud.url}/api/v1/events/stream`, { headers: { 'last-event-id': 'x; drop table', authorization: `Bearer ${ADMIN}` } });
  t.equal(bad.status, 400, 'a malformed Last-Event-ID is refused');
  await bad.body?.cancel();
});

t.test('two instances on one database: an event created through A reaches a stream on B', async (t) => {
  const db = await testDatabase(t, { shared: true });
  const a = await startCloud({ port: 0, db, adminToken: ADMIN, logger: false, feedPollMs: 50 });
  t.teardown(() => a.close());
  const b = await startCloud({ port: 0, db, adminToken: ADMIN, logger: false, feedPollMs: 50 });
  t.teardown(() => b.close());
  const post = await county(a.url);
  const onB = await connect(`${b.url}/api/v1/events/stream`);
  await onB.next((f) => f.comment === 'connected');
  await post([envelope({ alarmId: 'alarm-two00001' })]);
  const opened = await onB.next((f) => f.event === 'event.opened');
  t.match(JSON.parse(opened.data!), { deviceId: 'wl-qingquan-001', categoryLabel: '防汛' });
  onB.res.destroy();
});

t.test('PostgreSQL: two instances hear each other at once through LISTEN/NOTIFY, not by polling', { skip: !TEST_PG && 'PostgreSQL only (GRIDSENSE_TEST_PG)' }, async (t) => {
  const db = await testDatabase(t, { shared: true });
  // An hour between polls: only a notification can bring A's event to B within the test.
  const a = await startCloud({ port: 0, db, adminToken: ADMIN, logger: false, feedPollMs: 3_600_000 });
  t.teardown(() => a.close());
  const b = await startCloud({ port: 0, db, adminToken: ADMIN, logger: false, feedPollMs: 3_600_000 });
  t.teardown(() => b.close());
  const post = await county(a.url);
  const onB = await connect(`${b.url}/api/v1/events/stream`);
  await onB.next((f) => f.comment === 'connected');
  const started = Date.now();
  await post([envelope({ alarmId: 'alarm-ntf00001' })]);
  const opened = await onB.next((f) => f.event === 'event.opened');
  t.match(JSON.parse(opened.data!), { deviceId: 'wl-qingquan-001' });
  t.ok(Date.now() - started < 2000, `delivered in ${Date.now() - started} ms`);
  await post([envelope({ alarmId: 'alarm-ntf00001', seq: 1, action: 'clear' })]);
  await onB.next((f) => f.event === 'event.cleared');
  onB.res.destroy();
});
