// Snapshots against real peers: GStreamer's RTSP server (a frame decoded by the real ffmpeg) and the
// ONVIF device simulator's snapshot URI behind HTTP digest. Each JPEG is checked by ffprobe, which
// must decode it to the stream's size.
import { spawnSync } from 'node:child_process';
import t from 'tap';
import { isJpeg, sha256Hex } from '../../contracts/jpeg.js';
import { OnvifSimulator } from '../../test/helpers/onvif-sim/index.js';
import { patternJpeg } from '../../test/helpers/onvif-sim/snapshot.js';
import { GST_RTSP_SERVER, GstRtspServer, gstRtspServerAvailable } from '../../test/helpers/rtsp-server.js';
import { ffprobeDecodes } from '../../test/helpers/jpeg.js';
import { freePort, needs } from '../../test/helpers/services.js';
import { resolveOnvif, resolveRtsp } from '../drivers/camera/connection.js';
import { grabFrame, Snapshotter } from './snapshot.js';

const FFMPEG = 'ffmpeg (Debian ffmpeg: ffmpeg and ffprobe)';
const ffmpegAvailable = () => ['ffmpeg', 'ffprobe'].every((b) => spawnSync(b, ['-version'], { stdio: 'ignore' }).status === 0);
const PASSWORD = 'Sn4p-Shot!';
const reasonOf = (p: Promise<unknown>) => p.then(() => 'resolved', (err: { reason?: string; message?: string }) => err.reason ?? err.message);

t.test('one frame of a real RTSP stream (with RTSP auth) is a JPEG that decodes', async (t) => {
  if (!(await needs(t, FFMPEG, ffmpegAvailable))) return;
  if (!(await needs(t, GST_RTSP_SERVER, gstRtspServerAvailable))) return;
  const auth = { user: 'viewer', password: PASSWORD };
  const rtsp = await new GstRtspServer({ width: 320, height: 240, fps: 10, gop: 5, auth }).start();
  t.teardown(() => rtsp.stop());

  const jpeg = await grabFrame(rtsp.url('live'), { username: 'viewer', password: PASSWORD });
  t.ok(isJpeg(jpeg), `a JPEG (${jpeg.length} bytes)`);
  t.equal(ffprobeDecodes(jpeg), 'mjpeg 320x240', 'ffprobe decodes it at the stream size');

  const wrong = await grabFrame(rtsp.url('live'), { username: 'viewer', password: 'n0t-the-Pass' }).catch((e: Error & { reason?: string }) => e);
  t.match(wrong, { reason: 'rtsp_auth', code: 'GS_ERR_DRIVER_CONNECTION' }, 'a wrong password: rtsp_auth');
  t.notMatch((wrong as Error).message, /n0t-the-Pass/, 'the password is not in the message');

  t.equal(await reasonOf(grabFrame(rtsp.url('live'), { ...{ username: 'viewer', password: PASSWORD }, maxBytes: 100 })), 'snapshot_too_large', 'the size cap holds');
  t.equal(await reasonOf(grabFrame(rtsp.url('no-such-mount'), { username: 'viewer', password: PASSWORD })), 'rtsp_not_found');
  const closed = await freePort();
  t.equal(await reasonOf(grabFrame(`rtsp://127.0.0.1:${closed}/live`, { timeoutMs: 10_000, connectTimeoutMs: 2000 })), 'rtsp_unreachable', 'nothing listening: rtsp_unreachable');
  t.equal(await reasonOf(grabFrame('rtsp://127.0.0.1:1/live', { ffmpegPath: '/nonexistent/ffmpeg' })), 'ffmpeg_missing');
});

t.test('the Snapshotter: an RTSP camera, shared concurrent requests, and a stop', async (t) => {
  if (!(await needs(t, FFMPEG, ffmpegAvailable))) return;
  if (!(await needs(t, GST_RTSP_SERVER, gstRtspServerAvailable))) return;
  const rtsp = await new GstRtspServer({ width: 320, height: 240, fps: 10, gop: 5 }).start();
  t.teardown(() => rtsp.stop());
  const snaps = new Snapshotter({ concurrency: 1 });
  t.teardown(() => snaps.stop());
  const cam = resolveRtsp({ protocol: 'rtsp', url: rtsp.url('live') });
  const [a, b] = await Promise.all([snaps.take('cam-1', cam), snaps.take('cam-1', cam)]);
  t.equal(a, b, 'a second request for a camera being snapped shares that snapshot');
  t.equal(a.source, 'rtsp');
  t.equal(a.sha256, sha256Hex(a.jpeg));
  t.equal(ffprobeDecodes(a.jpeg), 'mjpeg 320x240');
  t.match(snaps.stats(), { running: 0, queued: 0, completed: 1 });
  await snaps.stop();
  t.equal(await reasonOf(snaps.take('cam-1', cam)), 'probe_aborted', 'stopped: refused');
});

t.test('an ONVIF camera: its snapshot URI through HTTP digest; without one, a frame of its stream', async (t) => {
  if (!(await needs(t, FFMPEG, ffmpegAvailable))) return;
  if (!(await needs(t, GST_RTSP_SERVER, gstRtspServerAvailable))) return;
  const rtsp = await new GstRtspServer({ width: 320, height: 240, fps: 10, gop: 5 }).start();
  t.teardown(() => rtsp.stop());
  const pattern = await patternJpeg(160, 120);
  const withSnap = await new OnvifSimulator({ password: PASSWORD, auth: 'digest', streamUri: () => rtsp.url('live'), snapshot: async () => pattern }).start();
  t.teardown(() => withSnap.stop());
  const noSnap = await new OnvifSimulator({ password: PASSWORD, streamUri: () => rtsp.url('live') }).start();
  t.teardown(() => noSnap.stop());
  const snaps = new Snapshotter();
  t.teardown(() => snaps.stop());
  const onvif = (sim: OnvifSimulator, password = PASSWORD) => resolveOnvif({ protocol: 'onvif', host: '127.0.0.1', port: sim.port, username: 'admin', password, timeout: '5s' });

  const one = await snaps.take('cam-a', onvif(withSnap));
  t.equal(one.source, 'onvif', 'from the snapshot URI');
  t.same(one.jpeg, pattern, 'the bytes the camera served');
  t.match(withSnap.seen('GET snapshot'), [{ status: 401 }, { status: 200, auth: 'ok' }], 'through an HTTP digest challenge');
  await snaps.take('cam-a', onvif(withSnap));
  t.equal(withSnap.seen('GetSnapshotUri').filter((r) => r.status === 200).length, 1, 'the snapshot URI is asked once and kept');

  const two = await snaps.take('cam-b', onvif(noSnap));
  t.equal(two.source, 'rtsp', 'the camera serves no picture at its URI: a frame of the stream');
  t.equal(ffprobeDecodes(two.jpeg), 'mjpeg 320x240');

  const bad = await snaps.take('cam-c', onvif(withSnap, 'wrong-password')).catch((e: Error & { reason?: string }) => e);
  t.ok(bad instanceof Error, 'a wrong ONVIF password fails');
  t.notMatch((bad as Error).message, /wrong-password/, 'the password is not in the message');
});
