// The camera drivers against real peers: GStreamer's RTSP server (test/fixtures/rtsp_server.py) read
// by the real ffprobe / ffmpeg, and the ONVIF device simulator (test/helpers/onvif-sim/) whose stream
// URI points at that server and whose PullPoint delivers events. Waits are for outcomes, never timed.
import { spawnSync } from 'node:child_process';
import t, { type Test } from 'tap';
import { systemClock } from '../../../contracts/clock.js';
import type { ProfilePoint } from '../../../contracts/profile.js';
import { CAMERA_POINTS } from '../../../device-profiles/checks/camera.js';
import { OnvifSimulator } from '../../../test/helpers/onvif-sim/index.js';
import { GST_RTSP_SERVER, GstRtspServer, gstRtspServerAvailable } from '../../../test/helpers/rtsp-server.js';
import { freePort, needs } from '../../../test/helpers/services.js';
import { waitFor } from '../../../test/helpers/wait.js';
import { CLOCK_POINTS, EVENT_POINTS, PROBE_POINTS } from '../../cameras/readings.js';
import { silentLogger } from '../../log.js';
import { systemScheduler } from '../../scheduler.js';
import type { DriverDeps, RawPointValue, Session } from '../driver.js';
import { defaultDrivers } from '../index.js';
import { CameraRuntime, OnvifCameraDriver, RtspCameraDriver, type CameraDriverOptions } from './driver.js';

const FFMPEG = 'ffmpeg (Debian ffmpeg: ffmpeg and ffprobe)';
const ffmpegAvailable = () => ['ffmpeg', 'ffprobe'].every((b) => spawnSync(b, ['-version'], { stdio: 'ignore' }).status === 0);
const PASSWORD = 'Gr1d-Sense!';
const deps = (): DriverDeps => ({ clock: systemClock, scheduler: systemScheduler, random: Math.random, logger: silentLogger() });
const FAST_EVENTS: CameraDriverOptions['events'] = { pullTimeoutS: 2, backoff: { baseMs: 100, capMs: 400 } };

const pt = (name: string): ProfilePoint => ({ name, type: name === 'codec' ? 'string' : 'number' });
const points = (...names: string[]) => names.map(pt);
const PROBE = points(...PROBE_POINTS);
const EVENTS = points(...EVENT_POINTS);
/** [point, value or reason] rows. */
const brief = (vs: RawPointValue[]) => vs.map((v) => (v.ok ? [v.point, v.value] : [v.point, `${v.reason}${v.unreachable ? ' (unreachable)' : ''}`]));

function onvifConn(sim: OnvifSimulator, extra: Record<string, unknown> = {}) {
  return { protocol: 'onvif', host: '127.0.0.1', port: sim.port, username: 'admin', password: PASSWORD, timeout: '3s', ...extra };
}

async function started(t: Test, o: ConstructorParameters<typeof OnvifSimulator>[0] = {}): Promise<OnvifSimulator> {
  const sim = await new OnvifSimulator({ password: PASSWORD, ...o }).start();
  t.teardown(() => sim.stop());
  return sim;
}

function opened(t: Test, s: Session): Session {
  t.teardown(() => s.close());
  return s;
}

t.test('the profile checks and the driver know the same camera points', async (t) => {
  t.same(Object.keys(CAMERA_POINTS).sort(), [...PROBE_POINTS, ...EVENT_POINTS, ...CLOCK_POINTS].sort());
  for (const p of CLOCK_POINTS) t.equal(CAMERA_POINTS[p]!.source, 'clock', `${p} comes from the camera's clock`);
  for (const p of PROBE_POINTS) t.equal(CAMERA_POINTS[p]!.source, 'probe', `${p} comes from the probe`);
  for (const p of EVENT_POINTS) t.equal(CAMERA_POINTS[p]!.source, 'event', `${p} comes from ONVIF events`);
  const reg = defaultDrivers();
  t.equal(reg.get('onvif').profileProtocol, 'camera');
  t.equal(reg.get('rtsp').profileProtocol, 'camera');
});

t.test('connection blocks: what is accepted and what is refused, with its path', async (t) => {
  const onvif = new OnvifCameraDriver(deps());
  const rtsp = new RtspCameraDriver();
  t.same(onvif.validateConnection({ protocol: 'onvif', host: '10.20.0.7' }), []);
  t.same(onvif.validateConnection({ protocol: 'onvif', host: 'cam-7.local', port: 8000, username: 'admin', password: 'x', profileToken: 'Profile_2', transport: 'udp', vendor: 'hikvision', timeout: '5s', sample: '3s', analyse: 0 }), []);
  t.same(rtsp.validateConnection({ protocol: 'rtsp', url: 'rtsp://10.20.0.9:554/Streaming/Channels/101', username: 'admin', password: 'x' }), []);
  t.same(rtsp.validateConnection({ protocol: 'rtsp', rtspUrl: 'rtsp://admin:x@10.20.0.9/ch1' }), []);
  const paths = (d: Array<{ path: string; message: string }>) => d.map((x) => `${x.path}: ${x.message}`);
  t.match(paths(onvif.validateConnection({ protocol: 'onvif' })), [/host|required/i]);
  t.match(paths(onvif.validateConnection({ protocol: 'onvif', host: 'http://10.0.0.1' })), [/^\/host/]);
  t.match(paths(onvif.validateConnection({ protocol: 'onvif', host: '10.0.0.1', vendor: 'axis' })), [/^\/vendor: no topic map for "axis" \(.*hikvision.*\)/]);
  t.match(paths(onvif.validateConnection({ protocol: 'onvif', host: '10.0.0.1', password: 'x' })), ['/password: a password needs a username']);
  t.match(paths(onvif.validateConnection({ protocol: 'onvif', host: '10.0.0.1', transport: 'http' })), [/^\/transport/]);
  t.match(paths(onvif.validateConnection({ protocol: 'onvif', host: '10.0.0.1', sample: '100ms', analyse: '500ms' })), [/^\/sample: must be at least 500ms/, /^\/analyse: must be 0/]);
  t.match(paths(onvif.validateConnection({ protocol: 'onvif', host: '10.0.0.1', rtspUrl: 'http://x' })), [/^\/rtspUrl/]);
  t.match(paths(onvif.validateConnection({ protocol: 'onvif', host: '10.0.0.1', colour: 'red' })), ['/colour: is not a known field']);
  t.match(paths(rtsp.validateConnection({ protocol: 'rtsp' })), [': needs "url" (rtsp://host:port/path)']);
  t.match(paths(rtsp.validateConnection({ protocol: 'rtsp', url: 'rtsp://a/1', rtspUrl: 'rtsp://a/2' })), ['/rtspUrl: give "url" or "rtspUrl", not both']);
  t.match(paths(rtsp.validateConnection({ protocol: 'rtsp', url: 'rtsp://admin:x@a/1', username: 'admin' })), [/^\/url: credentials are in the URL and in username\/password/]);
});

t.test('bus ids: an NVR\'s channels share one; sessions say theirs', async (t) => {
  const onvif = new OnvifCameraDriver(deps());
  const rtsp = new RtspCameraDriver();
  const a = opened(t, onvif.open({ protocol: 'onvif', host: 'NVR-1', port: 8000, profileToken: 'ch1' }));
  const b = opened(t, onvif.open({ protocol: 'onvif', host: 'nvr-1', port: 8000, profileToken: 'ch2' }));
  t.equal(a.busId, 'bus:onvif://nvr-1:8000');
  t.equal(b.busId, a.busId);
  t.equal(onvif.openLinks, 1, 'one ONVIF client for both channels');
  t.equal(opened(t, onvif.open({ protocol: 'onvif', host: '10.0.0.7' })).busId, 'bus:onvif://10.0.0.7:80');
  t.equal(opened(t, rtsp.open({ protocol: 'rtsp', url: 'rtsp://admin:pw@10.0.0.9/Streaming/Channels/101' })).busId, 'bus:rtsp://10.0.0.9:554');
  await a.close();
  await b.close();
  t.equal(onvif.openLinks, 1, 'the other camera still holds its own');
  await t.rejects(a.read(PROBE), { code: 'GS_ERR_DRIVER_CLOSED' });
  await t.rejects(a.write(pt('online'), 1), { code: 'GS_ERR_DRIVER_VALUE' });
});

t.test('an ONVIF camera that is not there: every probe point a missed poll; events push nothing', async (t) => {
  const driver = new OnvifCameraDriver(deps(), new CameraRuntime({ events: FAST_EVENTS }));
  const s = opened(t, driver.open({ protocol: 'onvif', host: '127.0.0.1', port: await freePort(), timeout: '1s', deviceId: 'cam-gone' }));
  const pushed: RawPointValue[] = [];
  s.subscribe!(EVENTS, (v) => pushed.push(v));
  const values = await s.read([...PROBE, ...EVENTS]);
  t.same(brief(values), [...PROBE_POINTS, ...EVENT_POINTS].map((p) => [p, 'onvif_unreachable (unreachable)']), 'nothing answered: a miss (camera_offline)');
  await new Promise((r) => setTimeout(r, 500));
  t.same(pushed, [], 'a camera that does not answer its event service does not mark itself online');
});

t.test("the camera's clock drift, read each poll; an RTSP-only camera has no clock to ask", async (t) => {
  const sim = await started(t, { clockOffsetMs: -95_000 });
  const driver = defaultDrivers().get('onvif');
  const s = opened(t, driver.open(onvifConn(sim, { deviceId: 'cam-clock' })));
  const [v] = await s.read(points('clock_drift_s'));
  t.ok(v!.ok && typeof v!.value === 'number' && Math.abs(v!.value - 95) <= 2, `drift ${JSON.stringify(v)} ≈ 95 s (absolute; cameras report whole seconds)`);
  const rtsp = opened(t, defaultDrivers().get('rtsp').open({ protocol: 'rtsp', url: 'rtsp://127.0.0.1:9/none', deviceId: 'cam-rtsp-clock' }));
  t.same(brief(await rtsp.read(points('clock_drift_s'))), [['clock_drift_s', 'no_clock_source']]);
});

t.test('a wrong ONVIF password: the camera answered (online 0); event points carry onvif_auth', async (t) => {
  const sim = await started(t);
  const driver = new OnvifCameraDriver(deps(), new CameraRuntime({ events: FAST_EVENTS }));
  const s = opened(t, driver.open(onvifConn(sim, { password: 'wrong', deviceId: 'cam-pw' })));
  const pushed: RawPointValue[] = [];
  s.subscribe!(EVENTS, (v) => pushed.push(v));
  t.same(brief(await s.read(points('online', 'fps'))), [['online', false], ['fps', 'onvif_auth']]);
  await waitFor('refusals pushed', () => (pushed.length >= 3 ? true : undefined), 10_000, 20);
  t.same(brief(pushed.slice(0, 3)).sort(), EVENT_POINTS.map((p) => [p, 'onvif_auth']).sort());
});

t.test('events: pushed as they happen, read back as the last state; one pull point for an NVR\'s channels', async (t) => {
  const sim = await started(t, { vendor: 'dahua' });
  const driver = new OnvifCameraDriver(deps(), new CameraRuntime({ events: FAST_EVENTS }));
  const ch1 = opened(t, driver.open(onvifConn(sim, { vendor: 'dahua', profileToken: 'Profile_1', deviceId: 'nvr-ch1' })));
  const ch2 = opened(t, driver.open(onvifConn(sim, { vendor: 'dahua', profileToken: 'Profile_2', deviceId: 'nvr-ch2' })));
  t.ok(EVENT_POINTS.every((p) => ch1.subscribes!(pt(p))) && PROBE_POINTS.every((p) => !ch1.subscribes!(pt(p))), 'events pushed, the probe polled');
  const got1: RawPointValue[] = [];
  const got2: RawPointValue[] = [];
  const off1 = ch1.subscribe!(EVENTS, (v) => got1.push(v));
  ch2.subscribe!(points('tamper'), (v) => got2.push(v));
  await waitFor('initial states', () => (got1.length >= 3 ? true : undefined), 10_000, 20);
  t.same(brief(got1).sort(), [['motion', false], ['tamper', false], ['video_loss', false]], 'a new pull point reports every state');
  t.same(brief(await ch1.read(EVENTS)), [['motion', false], ['tamper', false], ['video_loss', false]]);
  sim.emit('tamper', true);
  await waitFor('tamper on both channels', () => (got1.some((v) => v.ok && v.point === 'tamper' && v.value === true) && got2.some((v) => v.ok && v.value === true) ? true : undefined), 10_000, 20);
  t.ok(got2.every((v) => v.point === 'tamper'), 'a session gets only the points it subscribed');
  t.same(brief(await ch1.read(points('tamper'))), [['tamper', true]]);
  t.equal(sim.subscriptions, 1, 'one pull point on the device for both channels');
  t.equal(driver.openLinks, 1);
  off1();
  await ch1.close();
  sim.emit('motion', true);
  await waitFor('the other channel still subscribed', () => (sim.seen('PullMessages').length > 0 && sim.subscriptions === 1 ? true : undefined));
  await ch2.close();
  await waitFor('unsubscribed when the last channel closed', () => (sim.subscriptions === 0 ? true : undefined), 10_000, 20);
  t.equal(driver.openLinks, 0);
  t.match(sim.seen('Unsubscribe'), [{ status: 200 }]);
});

t.test('a camera down when the edge starts: events start once it answers', async (t) => {
  const sim = new OnvifSimulator({ password: PASSWORD, vendor: 'hikvision' });
  sim.port = await freePort();
  t.teardown(() => sim.stop());
  const driver = new OnvifCameraDriver(deps(), new CameraRuntime({ events: FAST_EVENTS }));
  const s = opened(t, driver.open(onvifConn(sim, { vendor: 'hikvision', deviceId: 'cam-late' })));
  const got: RawPointValue[] = [];
  s.subscribe!(EVENTS, (v) => got.push(v));
  await new Promise((r) => setTimeout(r, 300));
  await sim.start();
  await waitFor('subscribed', () => (sim.subscriptions === 1 ? true : undefined), 15_000, 20);
  sim.emit('motion', true);
  await waitFor('motion', () => got.find((v) => v.ok && v.point === 'motion' && v.value === true), 10_000, 20);
  t.pass('events flow after the camera came up');
});

t.test('probes against GStreamer: RTSP and ONVIF sessions, black, a stream that stops, close mid-probe', async (t) => {
  if (!(await needs(t, FFMPEG, ffmpegAvailable))) return;
  if (!(await needs(t, GST_RTSP_SERVER, gstRtspServerAvailable))) return;
  const server = await new GstRtspServer({ width: 320, height: 240, fps: 10, gop: 10 }).start();
  t.teardown(() => server.stop());
  const runtime = new CameraRuntime({ concurrency: 3, probe: { picture: { freezeMinSeconds: 1.5 } }, events: FAST_EVENTS });
  const rtsp = new RtspCameraDriver(runtime);
  const win = { sample: '2.5s', analyse: '2.5s' };
  const sim = await started(t, { vendor: 'hikvision', streamUri: () => server.url('live') });
  const onvif = new OnvifCameraDriver(deps(), runtime);

  const live = opened(t, rtsp.open({ protocol: 'rtsp', url: server.url('live'), deviceId: 'cam-live', ...win }));
  const black = opened(t, rtsp.open({ protocol: 'rtsp', url: server.url('black'), deviceId: 'cam-black', ...win }));
  const viaOnvif = opened(t, onvif.open(onvifConn(sim, { vendor: 'hikvision', deviceId: 'cam-onvif', sample: '1.5s', analyse: 0 })));
  const [l, b, o] = await Promise.all([live.read(PROBE), black.read(points('online', 'black', 'frozen')), viaOnvif.read(points('online', 'codec', 'width', 'height'))]);

  const v = Object.fromEntries(l.map((x) => [x.point, x.ok ? x.value : x.reason]));
  t.match(v, { online: true, codec: 'h264', width: 320, height: 240, black: false, frozen: false }, 'the live pattern');
  t.ok(Math.abs((v.fps as number) - 10) < 1.5, `fps ≈ 10 (${v.fps})`);
  t.ok((v.bitrate_kbps as number) > 20, `bitrate measured (${v.bitrate_kbps} kbit/s)`);
  t.ok(Math.abs((v.keyframe_interval_s as number) - 1) < 0.3, `a keyframe every ≈ 1 s (${v.keyframe_interval_s})`);
  t.same(brief(b), [['online', true], ['black', true], ['frozen', true]], 'the black mount reads black (and still)');
  t.same(brief(o), [['online', true], ['codec', 'h264'], ['width', 320], ['height', 240]], 'the stream the ONVIF camera advertises');
  t.ok(sim.seen('GetStreamUri').some((r) => r.status === 200 && r.auth === 'ok'));
  const asked = sim.seen('GetStreamUri').length;
  await viaOnvif.read(points('online'));
  t.equal(sim.seen('GetStreamUri').length, asked, 'the stream URI is asked once, then kept');

  // Reading no picture point runs no decode: a runtime whose ffmpeg does not exist still reads them.
  const noDecode = opened(t, new RtspCameraDriver(new CameraRuntime({ probe: { ffmpegPath: '/nonexistent/ffmpeg' } })).open({ protocol: 'rtsp', url: server.url('live'), sample: '1s' }));
  t.same(brief(await noDecode.read(points('online', 'codec'))), [['online', true], ['codec', 'h264']]);

  // close() during a probe ends it at once (the ffprobe child is killed), not after its window.
  const long = rtsp.open({ protocol: 'rtsp', url: server.url('live'), deviceId: 'cam-long', sample: '30s', analyse: 0 });
  const reading = long.read(points('online'));
  await new Promise((r) => setTimeout(r, 500));
  const t0 = Date.now();
  await long.close();
  t.same(brief(await reading), [['online', false]], 'the aborted probe is not a missed poll');
  t.ok(Date.now() - t0 < 5000, `ended within ${Date.now() - t0} ms`);

  await server.stop();
  const down = await live.read(points('online', 'fps', 'black'));
  t.same(brief(down), [['online', 'rtsp_unreachable (unreachable)'], ['fps', 'rtsp_unreachable (unreachable)'], ['black', 'rtsp_unreachable (unreachable)']], 'the stream stopped: a missed poll');
  t.same(brief(await viaOnvif.read(points('online'))), [['online', 'rtsp_unreachable (unreachable)']], 'the ONVIF camera answers, its stream does not: still a miss');
  await server.start();
  t.same(brief(await live.read(points('online', 'codec'))), [['online', true], ['codec', 'h264']], 'back after a restart');
});
