// Webhooks against a real HTTP receiver on 127.0.0.1 that checks every signature; time is a manual
// clock, so retries come exactly when the backoff says and the dead letter after the last attempt.
import t from 'tap';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ADMIN, admin, envelope, postAlarms, raiseAndClear, SAMPLE_COUNTY, testCloud } from '../test-support.js';
import { verify } from './signature.js';

interface Received {
  headers: IncomingMessage['headers'];
  body: string;
  signed: boolean;
}

async function receiver(t: Tap, secretOf: () => string, nowS: () => number) {
  const got: Received[] = [];
  let answer = 200;
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      got.push({ headers: req.headers, body, signed: verify(secretOf(), body, req.headers['x-gridsense-signature'] as string | undefined, nowS()) });
      res.writeHead(answer).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, got, answer: (s: number) => (answer = s) };
}
type Tap = { teardown(fn: () => unknown): void };

t.test('signed deliveries; a failure is retried after its backoff; the dead letter after the last attempt; replay', async (t) => {
  const { app, clock, token } = await testCloud(t, { grids: SAMPLE_COUNTY });
  let secret = '';
  const rx = await receiver(t, () => secret, () => Math.floor(clock.now() / 1000));
  const sub = await admin(app, 'POST', '/api/v1/webhooks', { url: rx.url, types: ['event.opened', 'event.cleared'] });
  t.equal(sub.statusCode, 201);
  secret = sub.json<{ secret: string }>().secret;
  t.match(secret, /^whsec_/);
  const subId = sub.json<{ id: string }>().id;
  t.notOk((await admin(app, 'GET', '/api/v1/webhooks')).body.includes(secret), 'the secret is shown once');

  const [raise, clear] = raiseAndClear('alarm-hook-0001');
  await postAlarms(app, token, [raise]);
  await app.webhooks.settled();
  t.equal(await app.webhooks.runOnce(), 1);
  t.equal(rx.got.length, 1);
  t.ok(rx.got[0]!.signed, 'the signature verifies with the secret');
  t.equal(rx.got[0]!.headers['x-gridsense-event'], 'event.opened');
  t.match(JSON.parse(rx.got[0]!.body), { type: 'event.opened', seq: Number, event: { deviceId: 'wl-qingquan-001', categoryLabel: '防汛' } });
  t.notOk(verify('whsec_wrong', rx.got[0]!.body, rx.got[0]!.headers['x-gridsense-signature'] as string, Math.floor(clock.now() / 1000)), 'another secret does not verify');
  t.notOk(verify(secret, rx.got[0]!.body.replace('防汛', '消防'), rx.got[0]!.headers['x-gridsense-signature'] as string, Math.floor(clock.now() / 1000)), 'a changed body does not verify');

  // The receiver is down for the clear: one failed attempt, then nothing until the backoff has passed.
  rx.answer(503);
  await postAlarms(app, token, [clear]);
  await app.webhooks.settled();
  t.equal(await app.webhooks.runOnce(), 1);
  t.equal(await app.webhooks.runOnce(), 0, 'not due again yet');
  const pending = (await admin(app, 'GET', `/api/v1/webhooks/${subId}/deliveries?status=pending`)).json<{ items: Array<{ attempts: number; lastStatus: number }> }>();
  t.match(pending.items, [{ attempts: 1, lastStatus: 503 }]);
  rx.answer(200);
  clock.advance(10_000);
  t.equal(await app.webhooks.runOnce(), 1, 'due after at most the first step (10 s)');
  t.equal(rx.got.at(-1)!.headers['x-gridsense-event'], 'event.cleared');
  t.equal(rx.got.filter((g) => g.headers['x-gridsense-event'] === 'event.cleared').length, 2, 'delivered on the retry');

  // Always failing: eight attempts, backing off, then the dead letter.
  rx.answer(500);
  await postAlarms(app, token, [envelope({ alarmId: 'alarm-hook-0002', deviceId: 'other' })]);
  await app.webhooks.settled();
  let attempts = 0;
  for (let i = 0; i < 12; i++) {
    attempts += await app.webhooks.runOnce();
    clock.advance(2 * 3_600_000);
  }
  t.equal(attempts, 8, 'eight attempts in all');
  const dead = (await admin(app, 'GET', `/api/v1/webhooks/${subId}/deliveries?status=dead`)).json<{ items: Array<{ id: string; attempts: number; lastError: string }> }>();
  t.match(dead.items, [{ attempts: 8, lastError: 'HTTP 500' }]);

  rx.answer(200);
  const replay = await admin(app, 'POST', `/api/v1/webhooks/deliveries/${dead.items[0]!.id}/replay`);
  t.equal(replay.statusCode, 202);
  await app.webhooks.runOnce();
  const after = (await admin(app, 'GET', `/api/v1/webhooks/${subId}/deliveries?status=delivered`)).json<{ items: unknown[] }>();
  t.equal(after.items.length, 3, 'opened, cleared and the replayed one are delivered');
  t.equal((await admin(app, 'POST', '/api/v1/webhooks/deliveries/nope/replay')).statusCode, 404);
});

t.test('a town-scoped subscription hears only its town; a disabled one nothing; bad subscriptions are refused', async (t) => {
  const { app, clock, token } = await testCloud(t, { grids: SAMPLE_COUNTY });
  const rx = await receiver(t, () => '', () => Math.floor(clock.now() / 1000));
  const dongle = (await admin(app, 'POST', '/api/v1/webhooks', { url: rx.url, types: ['event.opened'], townId: 'dongle' })).json<{ id: string }>();
  await postAlarms(app, token, [envelope({ alarmId: 'alarm-hook-0101' })]);
  await postAlarms(app, token, [envelope({ alarmId: 'alarm-hook-0102', deviceId: 'dongle-1', location: { lon: 101.2, lat: 38.8 } })]);
  await app.webhooks.settled();
  await app.webhooks.runOnce();
  t.same(rx.got.map((g) => (JSON.parse(g.body) as { event: { townId: string } }).event.townId), ['dongle']);

  t.equal((await app.inject({ method: 'DELETE', url: `/api/v1/webhooks/${dongle.id}`, headers: { authorization: `Bearer ${ADMIN}` } })).statusCode, 204);
  await postAlarms(app, token, [envelope({ alarmId: 'alarm-hook-0103', deviceId: 'dongle-2', location: { lon: 101.2, lat: 38.8 } })]);
  await app.webhooks.settled();
  t.equal(await app.webhooks.runOnce(), 0, 'disabled: nothing enqueued');

  t.equal((await admin(app, 'POST', '/api/v1/webhooks', { url: 'ftp://x', types: ['event.opened'] })).statusCode, 400);
  t.equal((await admin(app, 'POST', '/api/v1/webhooks', { url: rx.url, types: ['event.exploded'] })).statusCode, 400);
  t.equal((await admin(app, 'POST', '/api/v1/webhooks', { url: rx.url, types: [] })).statusCode, 400);
  t.equal((await app.inject({ method: 'POST', url: '/api/v1/webhooks', payload: { url: rx.url, types: ['event.opened'] } })).statusCode, 401);
});
