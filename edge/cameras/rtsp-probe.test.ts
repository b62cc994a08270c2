// The RTSP probe against a real peer: GStreamer's RTSP server (test/fixtures/rtsp_server.py) serving
// H.264 from x264enc, read by the real ffprobe and ffmpeg. No timing assertions (bench/ does speed).
import { createServer, type Socket } from 'node:net';
import { spawnSync } from 'node:child_process';
import t from 'tap';
import { GST_RTSP_SERVER, GstRtspServer, gstRtspServerAvailable } from '../../test/helpers/rtsp-server.js';
import { freePort, needs } from '../../test/helpers/services.js';
import { probeReadings, PROBE_POINTS } from './readings.js';
import { probeRtsp, RtspProber } from './rtsp-probe.js';

const FFMPEG = 'ffmpeg (Debian ffmpeg: ffmpeg and ffprobe)';
const ffmpegAvailable = () => ['ffmpeg', 'ffprobe'].every((b) => spawnSync(b, ['-version'], { stdio: 'ignore' }).status === 0);

// 10 fps, a keyframe every 10 frames: a 2.5 s sample spans at least two keyframes.
const FAST = { sampleSeconds: 2.5, analyseSeconds: 2.5, picture: { freezeMinSeconds: 1.5 } };

t.test('RTSP probe against GStreamer', async (t) => {
  if (!(await needs(t, FFMPEG, ffmpegAvailable))) return;
  if (!(await needs(t, GST_RTSP_SERVER, gstRtspServerAvailable))) return;
  const server = await new GstRtspServer({ width: 320, height: 240, fps: 10, gop: 10, bitrateKbps: 256 }).start();
  t.teardown(() => server.stop());
  const prober = new RtspProber({ concurrency: 4, defaults: FAST });
  t.teardown(() => prober.stop());

  // The three mounts at once through the shared pool, and the live one once more over UDP.
  const [live, black, frozen, udp] = await Promise.all([
    ...['live', 'black', 'frozen'].map((m) => prober.probe(m, server.url(m))),
    prober.probe('live-udp', server.url('live'), { transport: 'udp', analyseSeconds: 0 }),
  ]);

  t.test('the live pattern: codec, resolution, frame rate, bitrate, GOP; neither black nor frozen', async (t) => {
    if (!live!.ok) return t.fail(`probe failed: ${live!.reason} ${live!.message}`);
    const s = live!.stream;
    t.equal(s.codec, 'h264');
    t.equal(s.profile, 'Constrained Baseline');
    t.same([s.width, s.height], [320, 240]);
    t.equal(s.declaredFps, 10);
    t.ok(s.fps !== undefined && Math.abs(s.fps - 10) < 1, `measured fps ≈ 10 (${s.fps})`);
    t.ok(s.bitrateKbps !== undefined && s.bitrateKbps > 50 && s.bitrateKbps < 2000, `bitrate is plausible for a 256 kbit/s target (${s.bitrateKbps})`);
    t.ok(s.keyframeIntervalS !== undefined && Math.abs(s.keyframeIntervalS - 1) < 0.25, `keyframe every ≈ 1 s (${s.keyframeIntervalS})`);
    t.same(live!.picture && { black: live!.picture.black, frozen: live!.picture.frozen }, { black: false, frozen: false });

    const values = probeReadings(PROBE_POINTS, live!);
    t.same(
      values.map((v) => (v.ok ? [v.point, typeof v.value] : [v.point, v.reason])),
      [['online', 'boolean'], ['codec', 'string'], ['width', 'number'], ['height', 'number'], ['fps', 'number'], ['bitrate_kbps', 'number'], ['keyframe_interval_s', 'number'], ['black', 'boolean'], ['frozen', 'boolean']],
      'every probe point has a value',
    );
  });

  t.test('a black source reads black (and frozen: a black picture does not move)', async (t) => {
    if (!black!.ok) return t.fail(`probe failed: ${black!.reason}`);
    t.equal(black!.picture?.black, true, `black for ${black!.picture?.blackSeconds}s of ${black!.picture?.analysedSeconds}s`);
    t.equal(black!.stream.codec, 'h264', 'the stream itself is fine');
  });

  t.test('a still picture reads frozen, not black', async (t) => {
    if (!frozen!.ok) return t.fail(`probe failed: ${frozen!.reason}`);
    t.equal(frozen!.picture?.frozen, true);
    t.equal(frozen!.picture?.black, false);
  });

  t.test('RTP over UDP reads the same stream', async (t) => {
    t.match(udp, { ok: true, stream: { codec: 'h264', width: 320, height: 240 } });
  });

  t.test('a path the server does not have: rtsp_not_found, the camera answered', async (t) => {
    const r = await probeRtsp(server.url('no-such-channel'), { analyseSeconds: 0 });
    t.match(r, { ok: false, reason: 'rtsp_not_found', unreachable: false });
    const values = probeReadings(['online', 'fps'], r);
    t.same(values, [
      { point: 'online', ok: true, value: false },
      { point: 'fps', ok: false, reason: 'rtsp_not_found', unreachable: false },
    ], 'online reads false (video loss), the rest carry the reason');
  });

  t.test('the server stopped: rtsp_unreachable, every point a missed poll', async (t) => {
    await server.stop();
    const r = await prober.probe('live', server.url('live'));
    t.match(r, { ok: false, reason: 'rtsp_unreachable', unreachable: true });
    t.same(probeReadings(['online'], r), [{ point: 'online', ok: false, reason: 'rtsp_unreachable', unreachable: true }]);
    await server.start();
    const back = await prober.probe('live', server.url('live'), { analyseSeconds: 0, sampleSeconds: 1 });
    t.equal(back.ok, true, 'the same port serves again after a restart');
  });
});

t.test('a camera with a password: 401 without credentials, a stream with them', async (t) => {
  if (!(await needs(t, FFMPEG, ffmpegAvailable))) return;
  if (!(await needs(t, GST_RTSP_SERVER, gstRtspServerAvailable))) return;
  const creds = { user: 'admin', password: 'Hik12345' };
  const server = await new GstRtspServer({ auth: creds }).start();
  t.teardown(() => server.stop());
  const none = await probeRtsp(server.url('live'), { analyseSeconds: 0 });
  t.match(none, { ok: false, reason: 'rtsp_auth', unreachable: false });
  const wrong = await probeRtsp(server.url('live'), { analyseSeconds: 0, username: 'admin', password: 'nope' });
  t.match(wrong, { ok: false, reason: 'rtsp_auth' });
  t.notMatch(wrong.ok ? '' : wrong.message, /nope/, 'the password never reaches the message');
  const right = await probeRtsp(server.url('live'), { analyseSeconds: 0, sampleSeconds: 1, username: creds.user, password: creds.password });
  t.equal(right.ok, true);
  t.equal(right.url, `rtsp://***@127.0.0.1:${server.port}/live`, 'the URL in the result is redacted');
});

t.test('a server that accepts and never answers: the hard timeout kills the child', async (t) => {
  if (!(await needs(t, FFMPEG, ffmpegAvailable))) return;
  const sockets = new Set<Socket>();
  const mute = createServer((s) => {
    sockets.add(s);
    s.on('error', () => undefined);
  });
  const port = await freePort();
  await new Promise<void>((r) => mute.listen(port, '127.0.0.1', r));
  t.teardown(() => {
    for (const s of sockets) s.destroy();
    return new Promise<void>((r) => mute.close(() => r()));
  });
  // ffmpeg's own socket timeout is longer than the hard limit, so only the kill can end it.
  const r = await probeRtsp(`rtsp://127.0.0.1:${port}/live`, { connectTimeoutMs: 60_000, timeoutMs: 1500 });
  t.match(r, { ok: false, reason: 'probe_timeout', unreachable: true });
});

t.test('no ffprobe binary: ffmpeg_missing, not a crash', async (t) => {
  const r = await probeRtsp('rtsp://127.0.0.1:1/live', { ffprobePath: '/nonexistent/ffprobe' });
  t.match(r, { ok: false, reason: 'ffmpeg_missing', unreachable: false });
});
