// The ONVIF client against the ONVIF device simulator (test/helpers/onvif-sim/: real SOAP 1.2 over
// HTTP, WS-Security digest checked against its own clock), whose stream URI points at a real
// GStreamer RTSP stream and whose snapshot URI serves a frame of it grabbed by ffmpeg.
import { spawnSync } from 'node:child_process';
import t, { type Test } from 'tap';
import { systemClock } from '../../../contracts/clock.js';
import { OnvifSimulator } from '../../../test/helpers/onvif-sim/index.js';
import { grabJpeg, patternJpeg } from '../../../test/helpers/onvif-sim/snapshot.js';
import { GST_RTSP_SERVER, GstRtspServer, gstRtspServerAvailable } from '../../../test/helpers/rtsp-server.js';
import { freePort, needs } from '../../../test/helpers/services.js';
import { probeRtsp } from '../rtsp-probe.js';
import { OnvifCamera } from './camera.js';
import { SoapClient } from './soap.js';

const FFMPEG = 'ffmpeg (Debian ffmpeg: ffmpeg and ffprobe)';
const ffmpegAvailable = () => ['ffmpeg', 'ffprobe'].every((b) => spawnSync(b, ['-version'], { stdio: 'ignore' }).status === 0);
const PASSWORD = 'Gr1d-Sense!';

function camera(sim: OnvifSimulator, password = PASSWORD, vendor?: string): OnvifCamera {
  return new OnvifCamera({ host: '127.0.0.1', port: sim.port, username: 'admin', password, timeoutMs: 5000, ...(vendor ? { vendor } : {}) });
}

async function started(t: Test, o: ConstructorParameters<typeof OnvifSimulator>[0]): Promise<OnvifSimulator> {
  const sim = await new OnvifSimulator({ password: PASSWORD, ...o }).start();
  t.teardown(() => sim.stop());
  return sim;
}

const reasonOf = (p: Promise<unknown>) => p.then(() => 'resolved', (err: { reason?: string; message?: string }) => err.reason ?? err.message);

t.test('device information, profiles, stream and snapshot URIs with the right password (WS-Security)', async (t) => {
  const sim = await started(t, { vendor: 'hikvision', streamUri: (token) => `rtsp://10.20.0.7:554/Streaming/Channels/${token === 'Profile_1' ? 101 : 102}` });
  const cam = camera(sim);
  t.teardown(() => cam.close());
  const { services } = await cam.connect();
  t.match(services, { media: `${sim.base}/onvif/media_service`, events: `${sim.base}/onvif/event_service` });
  t.match(await cam.deviceInformation(), { manufacturer: 'HIKVISION', model: 'DS-2CD2T47G2-L', serialNumber: /^SIM\d+/ });
  t.same(await cam.profiles(), [
    { token: 'Profile_1', name: 'mainStream', encoding: 'H264', width: 320, height: 240, fps: 10, bitrateKbps: 256, gop: 10 },
    { token: 'Profile_2', name: 'subStream', encoding: 'H264', width: 320, height: 240, fps: 10, bitrateKbps: 128, gop: 10 },
  ]);
  t.equal(await cam.streamUri(), 'rtsp://10.20.0.7:554/Streaming/Channels/101', 'the first profile by default');
  t.equal(await cam.streamUri('Profile_2'), 'rtsp://10.20.0.7:554/Streaming/Channels/102');
  t.equal(await cam.snapshotUri('Profile_2'), `${sim.base}/onvif/snapshot/Profile_2.jpg`);
  t.equal(await reasonOf(cam.streamUri('Profile_9')), 'onvif_fault', 'an unknown profile is the camera\'s InvalidArgVal fault');
  const authed = sim.requests.filter((r) => r.auth === 'ok');
  t.ok(authed.length > 0 && authed.every((r) => r.via === 'wsse'), 'every protected call carried a valid UsernameToken');
});

t.test('a wrong password is refused: onvif_auth, on the WS-Security and the digest camera alike', async (t) => {
  const wsse = await started(t, { vendor: 'onvif' });
  const bad = camera(wsse, 'not-the-password');
  t.teardown(() => bad.close());
  t.equal(await reasonOf(bad.deviceInformation()), 'onvif_auth');
  t.match(wsse.seen('GetDeviceInformation'), [{ status: 400, auth: 'refused', why: 'password digest does not match' }], 'refused with a SOAP fault (HTTP 400)');

  const digest = await started(t, { auth: 'digest' });
  const good = camera(digest);
  const wrong = camera(digest, 'nope');
  t.teardown(() => Promise.all([good.close(), wrong.close()]));
  t.match(await good.deviceInformation(), { manufacturer: 'ONVIF Simulator' }, 'a digest-only camera is read through HTTP digest');
  t.ok(digest.seen('GetDeviceInformation').some((r) => r.auth === 'ok' && r.via === 'digest'));
  t.equal(await reasonOf(wrong.deviceInformation()), 'onvif_auth');
});

t.test('clock drift: camera time − edge time; the UsernameToken is written in camera time', async (t) => {
  const ahead = 90 * 60_000; // the camera's clock is 90 minutes fast, far outside its 2-minute Created window
  const sim = await started(t, { clockOffsetMs: ahead });
  const cam = camera(sim);
  t.teardown(() => cam.close());
  const drift = await cam.clockDrift();
  t.ok(Math.abs(drift.driftMs - ahead) <= 1500, `drift ${drift.driftMs} ms ≈ ${ahead} ms (cameras report whole seconds)`);
  t.match(await cam.deviceInformation(), { manufacturer: 'ONVIF Simulator' }, 'calls still authenticate: Created follows the camera clock');

  // The same credentials with the edge's own time are refused: why the drift matters.
  const naive = new SoapClient({ auth: { username: 'admin', password: PASSWORD }, clock: systemClock });
  const refused = await reasonOf(naive.call(`${sim.base}/onvif/device_service`, '<GetDeviceInformation xmlns="http://www.onvif.org/ver10/device/wsdl"/>'));
  t.equal(refused, 'onvif_auth');
  t.match(sim.requests.at(-1), { auth: 'refused', why: /too far from the camera clock/ });
  const fixed = new SoapClient({ auth: { username: 'admin', password: PASSWORD }, clock: systemClock, driftMs: () => drift.driftMs });
  const info = await fixed.call(`${sim.base}/onvif/device_service`, '<GetDeviceInformation xmlns="http://www.onvif.org/ver10/device/wsdl"/>');
  t.equal(info.local, 'GetDeviceInformationResponse');
});

t.test('a replayed UsernameToken is refused', async (t) => {
  const sim = await started(t, {});
  const token = (await import('./soap.js')).usernameToken({ username: 'admin', password: PASSWORD }, Date.now());
  const post = () =>
    fetch(`${sim.base}/onvif/device_service`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/soap+xml' },
      body: `<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Header>${token}</s:Header><s:Body><GetDeviceInformation xmlns="http://www.onvif.org/ver10/device/wsdl"/></s:Body></s:Envelope>`,
    });
  t.equal((await post()).status, 200);
  const again = await post();
  t.equal(again.status, 400);
  t.match(await again.text(), /ter:NotAuthorized/);
});

t.test('a camera that is not there: onvif_unreachable; one that answers garbage: onvif_bad_response', async (t) => {
  const nobody = new OnvifCamera({ host: '127.0.0.1', port: await freePort(), username: 'admin', password: 'x', timeoutMs: 2000 });
  t.teardown(() => nobody.close());
  t.equal(await reasonOf(nobody.connect()), 'onvif_unreachable');

  const sim = await started(t, {});
  const cam = camera(sim);
  t.teardown(() => cam.close());
  await cam.connect();
  for (const how of ['html', 'truncated', 'empty-body'] as const) {
    sim.garble('GetProfiles', how);
    t.equal(await reasonOf(cam.profiles()), 'onvif_bad_response', `GetProfiles answered ${how}`);
  }
  sim.garble('GetProfiles', undefined);
  t.equal((await cam.profiles()).length, 2, 'the same camera object works once the camera answers properly');

  const soap = new SoapClient({ auth: { username: 'admin', password: PASSWORD }, clock: systemClock });
  sim.garble('GetDeviceInformation', 'truncated');
  t.equal(await reasonOf(soap.call(`${sim.base}/onvif/device_service`, '<GetDeviceInformation xmlns="http://www.onvif.org/ver10/device/wsdl"/>')), 'onvif_bad_response');
});

t.test('malformed SOAP to the simulator: faults, never a crash', async (t) => {
  const sim = await started(t, {});
  const post = async (body: string) => {
    const res = await fetch(`${sim.base}/onvif/device_service`, { method: 'POST', headers: { 'Content-Type': 'application/soap+xml' }, body });
    return { status: res.status, body: await res.text() };
  };
  t.match(await post('<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><Get'), { status: 400, body: /ter:WellFormed/ });
  t.match(await post('<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>'), { status: 400, body: /DOCTYPE is not allowed/ });
  t.match(await post('<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Body><GetSystemDateAndTime/></e:Body></e:Envelope>'), { status: 400, body: /env:VersionMismatch/ });
  t.match(await post('<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><Frobnicate xmlns="http://www.onvif.org/ver10/device/wsdl"/></s:Body></s:Envelope>'), { status: 400, body: /ter:NotAuthorized/ }, 'an unknown operation still needs credentials');
  t.match(await post('<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><GetSystemDateAndTime xmlns="http://www.onvif.org/ver10/device/wsdl"/></s:Body></s:Envelope>'), { status: 200, body: /UTCDateTime/ }, 'still answering');
});

t.test('the stream URI points at a real RTSP stream; the snapshot is a JPEG of it', async (t) => {
  if (!(await needs(t, FFMPEG, ffmpegAvailable))) return;
  if (!(await needs(t, GST_RTSP_SERVER, gstRtspServerAvailable))) return;
  const rtsp = await new GstRtspServer({ gop: 10 }).start();
  t.teardown(() => rtsp.stop());
  const sim = await started(t, { vendor: 'dahua', streamUri: () => rtsp.url('live'), snapshot: () => grabJpeg(rtsp.url('live')) });
  const cam = camera(sim, PASSWORD, 'dahua');
  t.teardown(() => cam.close());
  const uri = await cam.streamUri();
  const probe = await probeRtsp(uri, { sampleSeconds: 1, analyseSeconds: 0 });
  t.match(probe, { ok: true, stream: { codec: 'h264', width: 320, height: 240 } }, 'ffprobe reads the stream the camera advertises');
  const jpeg = await cam.snapshot();
  t.same([...jpeg.subarray(0, 2)], [0xff, 0xd8], 'starts like a JPEG');
  t.ok(jpeg.length > 1000, `${jpeg.length} bytes`);
  t.match(sim.seen('GET snapshot'), [{ status: 401 }, { status: 200, auth: 'ok' }], 'fetched through an HTTP digest challenge');
});

t.test('a snapshot with a wrong password: onvif_auth', async (t) => {
  if (!(await needs(t, FFMPEG, ffmpegAvailable))) return;
  const jpeg = await patternJpeg();
  const sim = await started(t, { auth: 'either', snapshot: async () => jpeg });
  const good = camera(sim);
  t.teardown(() => good.close());
  t.equal((await good.snapshot()).length, jpeg.length);
  // Same URI, wrong password (the SOAP part is not asked again: the URI is public, the picture is not).
  const { httpExchange } = await import('./http.js');
  const res = await httpExchange(await good.snapshotUri(), { timeoutMs: 3000, auth: { username: 'admin', password: 'wrong' } });
  t.equal(res.status, 401);
});
