// PullPoint events against the ONVIF simulator: topics of each vendor mapped to motion / tamper /
// video_loss, renewal, and the subscription healing itself after a reboot, a camera that vanishes
// mid-subscription, a camera that comes back with a wrong clock. Waits are for outcomes, never timed.
import t, { type Test } from 'tap';
import { OnvifSimulator, type SimEventKind } from '../../../test/helpers/onvif-sim/index.js';
import { ManualScheduler } from '../../../test/helpers/manual-scheduler.js';
import { waitFor } from '../../../test/helpers/wait.js';
import { OnvifCamera } from './camera.js';
import type { PullPointStatus, PullPointSubscriber } from './pullpoint.js';
import type { CameraEvent } from './topics.js';

const PASSWORD = 'Gr1d-Sense!';
const FAST_BACKOFF = { baseMs: 100, capMs: 400 };

interface Harness {
  sim: OnvifSimulator;
  cam: OnvifCamera;
  sub: PullPointSubscriber;
  events: CameraEvent[];
  statuses: PullPointStatus[];
  /** Resolves with the first event after `from` that matches. */
  next(kind: SimEventKind, active: boolean, from?: number): Promise<CameraEvent>;
}

async function harness(t: Test, simOpts: ConstructorParameters<typeof OnvifSimulator>[0], subOpts: Partial<Parameters<OnvifCamera['events']>[0]> = {}, vendor?: string): Promise<Harness> {
  const sim = await new OnvifSimulator({ password: PASSWORD, ...simOpts }).start();
  const cam = new OnvifCamera({ host: '127.0.0.1', port: sim.port, username: 'admin', password: PASSWORD, timeoutMs: 3000, vendor: vendor ?? simOpts?.vendor ?? 'onvif' });
  const events: CameraEvent[] = [];
  const statuses: PullPointStatus[] = [];
  const sub = await cam.events({ onEvent: (e) => events.push(e), onStatus: (s) => statuses.push(s), pullTimeoutS: 2, backoff: FAST_BACKOFF, ...subOpts });
  t.teardown(async () => {
    await cam.close();
    await sim.stop();
  });
  const next = (kind: SimEventKind, active: boolean, from = 0) =>
    waitFor(`${kind}=${active}`, () => events.slice(from).find((e) => e.kind === kind && e.active === active && !e.initial), 15_000, 20);
  return { sim, cam, sub, events, statuses, next };
}

for (const vendor of ['onvif', 'hikvision', 'dahua'] as const) {
  t.test(`${vendor} topics: the initial state, then motion, tamper and video loss as they change`, async (t) => {
    const h = await harness(t, { vendor });
    h.sub.start();
    await waitFor('initial states', () => (h.events.filter((e) => e.initial).length >= 3 ? true : undefined));
    t.same(
      h.events.filter((e) => e.initial).map((e) => [e.kind, e.active]).sort(),
      [['motion', false], ['tamper', false], ['video_loss', false]],
      'a new pull point reports every state once (Initialized)',
    );
    h.sim.emit('motion', true);
    const motion = await h.next('motion', true);
    t.ok(motion.cameraTime, 'the camera time of the event is kept');
    h.sim.emit('tamper', true);
    await h.next('tamper', true);
    h.sim.emit('video_loss', true);
    await h.next('video_loss', true);
    h.sim.emit('motion', false);
    await h.next('motion', false);
    t.equal(h.sub.status().unmapped, 0, 'every topic the camera sent is in the map');
    t.equal(h.sub.status().subscriptions, 1);
  });
}

t.test('a topic prefix other than tns1 maps all the same', async (t) => {
  const h = await harness(t, { vendor: 'hikvision', topicPrefix: 'ns1' });
  h.sub.start();
  await waitFor('subscribed', () => (h.sub.status().state === 'subscribed' ? true : undefined));
  h.sim.emit('tamper', true);
  const ev = await h.next('tamper', true);
  t.equal(ev.topic, 'ns1:RuleEngine/TamperDetector/Tamper');
});

t.test('a camera that takes shorter pulls says so in a PullMessagesFaultResponse; the subscriber adapts', async (t) => {
  const h = await harness(t, { maxPullTimeoutMs: 1000, maxMessageLimit: 5 }, { pullTimeoutS: 5, messageLimit: 20 });
  h.sub.start();
  await waitFor('subscribed', () => (h.sub.status().state === 'subscribed' && h.sub.status().pulls > 0 ? true : undefined));
  h.sim.emit('motion', true);
  await h.next('motion', true);
  t.equal(h.sim.seen('PullMessages').filter((r) => r.status !== 200).length, 1, 'one refused pull, then pulls the camera takes');
  t.equal(h.sub.status().subscriptions, 1, 'the subscription was kept');
});

t.test('renewal keeps one subscription alive past its termination time', async (t) => {
  const h = await harness(t, {}, { terminationS: 3, renewMarginS: 2, pullTimeoutS: 1 });
  h.sub.start();
  await waitFor('two renewals', () => (h.sub.status().renewals >= 2 ? true : undefined), 20_000);
  t.equal(h.sub.status().subscriptions, 1, 'never had to subscribe again');
  t.equal(h.sim.subscriptions, 1);
  t.ok(h.sim.seen('Renew').every((r) => r.status === 200));
});

t.test('after a reboot (subscriptions lost) the subscriber subscribes again and events flow', async (t) => {
  const h = await harness(t, { vendor: 'hikvision' });
  h.sub.start();
  await waitFor('subscribed', () => (h.sub.status().state === 'subscribed' ? true : undefined));
  await h.sim.reboot();
  await waitFor('second subscription', () => (h.sub.status().subscriptions >= 2 && h.sub.status().state === 'subscribed' ? true : undefined));
  const from = h.events.length;
  h.sim.emit('motion', true);
  await h.next('motion', true, from);
  t.ok(h.sim.seen('PullMessages').some((r) => r.status === 400), 'the old pull point was answered with a fault');
  t.equal(h.sub.status().lost, 1, 'read as an unknown subscription (wsrf-rw:ResourceUnknownFault)');
  t.equal(h.sim.subscriptions, 1, 'one live pull point on the camera');
  t.ok(h.statuses.some((s) => s.state === 'retrying'), 'the interruption was reported');
});

t.test('a camera that vanishes mid-subscription and comes back rebooted (Dahua: wsa:DestinationUnreachable)', async (t) => {
  const h = await harness(t, { vendor: 'dahua' });
  h.sub.start();
  await waitFor('subscribed', () => (h.sub.status().state === 'subscribed' ? true : undefined));
  const down = h.sim.reboot({ downMs: 1500 });
  await waitFor('retrying while it is down', () => h.statuses.find((s) => s.state === 'retrying' && s.reason === 'onvif_unreachable'));
  await down;
  await waitFor('subscribed again', () => (h.sub.status().subscriptions >= 2 && h.sub.status().state === 'subscribed' ? true : undefined));
  const from = h.events.length;
  h.sim.emit('video_loss', true);
  await h.next('video_loss', true, from);
  t.equal(h.sub.status().lost, 1, 'wsa:DestinationUnreachable on the old pull point read as an unknown subscription');
});

t.test('a camera back from a reboot with its clock an hour off: refused once, drift measured again, subscribed', async (t) => {
  const h = await harness(t, { vendor: 'onvif' });
  h.sub.start();
  await waitFor('subscribed', () => (h.sub.status().state === 'subscribed' ? true : undefined));
  await h.sim.reboot({ clockOffsetMs: 3_600_000 });
  await waitFor('subscribed again', () => (h.sub.status().subscriptions >= 2 && h.sub.status().state === 'subscribed' ? true : undefined), 20_000);
  t.ok(h.sim.requests.some((r) => r.auth === 'refused' && /too far from the camera clock/.test(r.why ?? '')), 'the stale Created was refused');
  t.ok(h.sim.seen('GetSystemDateAndTime').length >= 2, 'the clock was read again');
  const from = h.events.length;
  h.sim.emit('tamper', true);
  await h.next('tamper', true, from);
});

t.test('a wrong password: the subscriber waits on its backoff timer, it does not hammer the camera', async (t) => {
  const sim = await new OnvifSimulator({ password: PASSWORD }).start();
  const scheduler = new ManualScheduler();
  const cam = new OnvifCamera({ host: '127.0.0.1', port: sim.port, username: 'admin', password: 'wrong', timeoutMs: 3000, scheduler });
  t.teardown(async () => {
    await cam.close();
    await sim.stop();
  });
  // Connecting needs no password (GetSystemDateAndTime, GetServices are pre-auth), subscribing does.
  const statuses: PullPointStatus[] = [];
  const sub = await cam.events({ onEvent: () => undefined, onStatus: (s) => statuses.push(s), backoff: { baseMs: 1000, capMs: 60_000 }, random: () => 1 });
  sub.start();
  await waitFor('a retry timer', () => (scheduler.pending.length > 0 ? true : undefined));
  t.match(statuses.at(-1), { state: 'retrying', reason: 'onvif_auth' });
  t.equal(sim.seen('CreatePullPointSubscription').length, 1, 'one attempt, then it waits');
  t.same(scheduler.pending, [1000]);
  scheduler.fireNext();
  await waitFor('the second attempt', () => (scheduler.pending.length > 0 ? true : undefined));
  t.equal(sim.seen('CreatePullPointSubscription').length, 2);
  t.same(scheduler.pending, [2000], 'the wait doubles');
});

t.test('stop() ends a long poll at once and unsubscribes', async (t) => {
  const h = await harness(t, {}, { pullTimeoutS: 30 });
  h.sub.start();
  await waitFor('a pull waiting on the camera', () => (h.sim.subscriptions === 1 && h.sub.status().state === 'subscribed' ? true : undefined));
  await h.sub.stop();
  t.equal(h.sim.subscriptions, 0, 'the pull point is gone from the camera');
  t.match(h.sim.seen('Unsubscribe'), [{ status: 200 }]);
  t.equal(h.sub.status().state, 'stopped');
});
