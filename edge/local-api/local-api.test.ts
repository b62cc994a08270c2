// The edge's local API on a real agent: a pymodbus smoke detector and a camera on GStreamer's RTSP
// stream. Devices with their health, a snapshot that ffprobe decodes, the detector's telemetry, the
// bearer token, and every bad request answered with its GS_ERR code.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify as toYaml } from 'yaml';
import { isJpeg } from '../../contracts/jpeg.js';
import { EdgeAgent } from '../agent.js';
import { loadEdgeConfig } from '../config.js';
import { silentLogger } from '../log.js';
import { AlarmSink } from '../../test/helpers/alarm-sink.js';
import { ffprobeDecodes } from '../../test/helpers/jpeg.js';
import { PymodbusServer } from '../../test/helpers/pymodbus.js';
import { GST_RTSP_SERVER, GstRtspServer, gstRtspServerAvailable } from '../../test/helpers/rtsp-server.js';
import { freePort, needs, pythonHasModule } from '../../test/helpers/services.js';
import { waitFor } from '../../test/helpers/wait.js';

const FFMPEG = 'ffmpeg (Debian ffmpeg: ffmpeg and ffprobe)';
const ffmpegAvailable = () => ['ffmpeg', 'ffprobe'].every((b) => spawnSync(b, ['-version'], { stdio: 'ignore' }).status === 0);
const TOKEN = 'local-api-token-0123456789';

t.test('the local API: devices, a camera snapshot, telemetry; token and bad input', async (t) => {
  if (!(await needs(t, 'pymodbus (Debian python3-pymodbus, run by /usr/bin/python3)', () => pythonHasModule('pymodbus')))) return;
  if (!(await needs(t, FFMPEG, ffmpegAvailable))) return;
  if (!(await needs(t, GST_RTSP_SERVER, gstRtspServerAvailable))) return;
  const detector = await new PymodbusServer({ init: 'holding:0=12,holding:2=215,holding:3=240,holding:4=90' }).start();
  t.teardown(() => detector.stop());
  const rtsp = await new GstRtspServer({ width: 320, height: 240, fps: 10, gop: 5 }).start();
  t.teardown(() => rtsp.stop());
  const sink = await new AlarmSink().start();
  t.teardown(() => sink.stop());
  const dir = mkdtempSync(join(tmpdir(), 'gridsense-local-api-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'edge.yaml');
  const deadPort = await freePort();
  writeFileSync(file, toYaml({
    edge: { id: 'town-qingquan', dataDir: './edge-data' },
    cloud: { url: sink.url, token: 'local-api-test' },
    telemetry: { flushInterval: '200ms' },
    localApi: { port: 0, token: TOKEN },
    devices: [
      { id: 'smoke-hall', profile: 'generic/photoelectric-smoke-detector', connection: { protocol: 'modbus-tcp', host: '127.0.0.1', port: detector.port, unitId: 1, timeout: '1s' }, pollInterval: '300ms', cameras: ['cam-hall'] },
      // Probed rarely, without picture analysis: this test is about the API.
      { id: 'cam-hall', profile: 'generic/rtsp-camera', connection: { protocol: 'rtsp', url: rtsp.url('live'), analyse: 0, sample: '1s' }, pollInterval: '60s' },
      { id: 'cam-dead', profile: 'generic/rtsp-camera', connection: { protocol: 'rtsp', url: `rtsp://127.0.0.1:${deadPort}/live`, analyse: 0, sample: '1s' }, pollInterval: '60s' },
    ],
  }));
  const agent = new EdgeAgent(loadEdgeConfig(file), { logger: silentLogger() });
  await agent.start();
  t.teardown(() => agent.stop());
  const base = agent.localApiUrl!;
  t.match(base, /^http:\/\/127\.0\.0\.1:\d+$/, 'listening on 127.0.0.1');
  const get = (path: string, token: string | null = TOKEN) => fetch(`${base}${path}`, token ? { headers: { authorization: `Bearer ${token}` } } : {});

  // The token.
  t.match(await (await get('/api/devices', null)).json(), { code: 'GS_ERR_AUTH_MISSING' });
  t.equal((await get('/api/devices', null)).status, 401);
  t.match(await (await get('/api/devices', 'wrong-token-0123456789')).json(), { code: 'GS_ERR_AUTH_INVALID' });

  // Devices and their health.
  await waitFor('the detector online', () => (agent.status().devices.find((d) => d.deviceId === 'smoke-hall')?.health === 'online' ? true : undefined));
  const devices = (await (await get('/api/devices')).json()) as { items: Array<Record<string, unknown>> };
  t.match(devices.items, [
    { id: 'smoke-hall', profile: 'generic/photoelectric-smoke-detector', kind: 'smoke_detector', health: 'online' },
    { id: 'cam-hall', profile: 'generic/rtsp-camera', kind: 'camera' },
    { id: 'cam-dead', kind: 'camera' },
  ]);

  // A snapshot on demand.
  const snap = await get('/api/cameras/cam-hall/snapshot');
  t.equal(snap.status, 200);
  t.equal(snap.headers.get('content-type'), 'image/jpeg');
  t.equal(snap.headers.get('x-gridsense-source'), 'rtsp');
  const jpeg = Buffer.from(await snap.arrayBuffer());
  t.ok(isJpeg(jpeg), `a JPEG of ${jpeg.length} bytes`);
  t.equal(ffprobeDecodes(jpeg), 'mjpeg 320x240', 'that ffprobe decodes at the stream size');
  t.match(await (await get('/api/cameras/cam-nowhere/snapshot')).json(), { code: 'GS_ERR_CAMERA_UNKNOWN' });
  t.equal((await get('/api/cameras/smoke-hall/snapshot')).status, 404, 'a smoke detector is not a camera');
  const dead = await get('/api/cameras/cam-dead/snapshot');
  t.equal(dead.status, 504, 'a camera that does not answer: 504');
  t.match(await dead.json(), { code: 'GS_ERR_DEVICE_UNREACHABLE', reason: 'rtsp_unreachable' });

  // Telemetry of the detector (temperature 21.5 °C: register 2 at 0.1 °C).
  const readings = await waitFor('telemetry stored', async () => {
    const r = (await (await get('/api/telemetry?device=smoke-hall&point=temperature')).json()) as { items: Array<{ value: number; unit: string }> };
    return r.items.length > 0 ? r.items : undefined;
  });
  t.match(readings[0], { deviceId: 'smoke-hall', point: 'temperature', value: 21.5, unit: '°C', quality: 'good' });
  const window = (await (await get(`/api/telemetry?device=smoke-hall&from=${new Date(Date.now() - 60_000).toISOString()}&to=${Date.now()}&limit=2`)).json()) as { items: unknown[] };
  t.equal(window.items.length, 2, 'a window and a limit');
  t.match(await (await get('/api/telemetry?device=nobody')).json(), { code: 'GS_ERR_DEVICE_UNKNOWN' });
  t.equal((await get('/api/telemetry?device=nobody')).status, 404);
  t.match(await (await get('/api/telemetry?from=yesterday')).json(), { code: 'GS_ERR_VALIDATION', details: [{ path: '/from' }] });
  t.match(await (await get('/api/telemetry?from=2000&to=1000')).json(), { code: 'GS_ERR_VALIDATION' });
  t.match(await (await get('/api/telemetry?limit=0')).json(), { code: 'GS_ERR_VALIDATION', details: [{ path: '/limit' }] });
  t.match(await (await get('/api/telemetry?colour=red')).json(), { code: 'GS_ERR_VALIDATION', details: [{ path: '/colour' }] });
  t.match(await (await get('/api/nothing')).json(), { code: 'GS_ERR_ROUTE_NOT_FOUND' });
  t.equal((await get('/api/devices')).status, 200, 'still serving');
});

t.test('localApi in edge.yaml: a short token and a bad port are configuration errors', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'gridsense-local-api-cfg-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'edge.yaml');
  writeFileSync(file, toYaml({ edge: { id: 'e1', dataDir: './d' }, cloud: { url: 'http://127.0.0.1:9', token: 'x' }, localApi: { port: 70000, token: 'short' }, devices: [] }));
  try {
    loadEdgeConfig(file);
    t.fail('accepted');
  } catch (err) {
    const e = err as { code: string; details: Array<{ path: string }> };
    t.equal(e.code, 'GS_ERR_CONFIG_INVALID');
    t.same(e.details.map((d) => d.path).sort(), ['/localApi/port', '/localApi/token']);
  }
});
