// A camera on a real edge, end to end: the real EdgeAgent with one ONVIF camera (generic/onvif-ipc)
// played by the ONVIF device simulator, whose stream URI is GStreamer's RTSP server serving a moving
// test pattern, probed by the real ffprobe. The camera reads online; a tamper event from the camera
// arrives as a reading and raises video_tamper (rules/library/camera.yaml, the profile's default
// rules); the RTSP server stops and camera_offline reaches the county's alarm ingest (an AlarmSink
// standing in for the cloud); it starts again and the alarm is cleared. Poll timing is real.
import t from 'tap';
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { stringify as toYaml } from 'yaml';
import { EdgeAgent } from '../../edge/agent.js';
import { loadEdgeConfig } from '../../edge/config.js';
import { silentLogger } from '../../edge/log.js';
import { AlarmSink } from '../helpers/alarm-sink.js';
import { OnvifSimulator } from '../helpers/onvif-sim/index.js';
import { GST_RTSP_SERVER, GstRtspServer, gstRtspServerAvailable } from '../helpers/rtsp-server.js';
import { needs } from '../helpers/services.js';
import { waitFor } from '../helpers/wait.js';

const FFMPEG = 'ffmpeg (Debian ffmpeg: ffmpeg and ffprobe)';
const ffmpegAvailable = () => ['ffmpeg', 'ffprobe'].every((b) => spawnSync(b, ['-version'], { stdio: 'ignore' }).status === 0);
const PASSWORD = 'Cam-e2e-9!';
const CAMERA = 'cam-east-gate';

t.test('an ONVIF camera: online, a tamper event, camera_offline when its stream stops, cleared when it returns', async (t) => {
  if (!(await needs(t, FFMPEG, ffmpegAvailable))) return;
  if (!(await needs(t, GST_RTSP_SERVER, gstRtspServerAvailable))) return;
  const rtsp = await new GstRtspServer({ width: 320, height: 240, fps: 10, gop: 5 }).start();
  t.teardown(() => rtsp.stop());
  const sim = await new OnvifSimulator({ vendor: 'hikvision', password: PASSWORD, streamUri: () => rtsp.url('live') }).start();
  t.teardown(() => sim.stop());
  const sink = await new AlarmSink().start();
  t.teardown(() => sink.stop());

  const dir = mkdtempSync(join(tmpdir(), 'gridsense-camera-e2e-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'edge.yaml');
  writeFileSync(file, toYaml({
    edge: { id: 'town-qingquan', dataDir: './edge-data' },
    cloud: { url: sink.url, token: 'camera-e2e-token' },
    telemetry: { flushInterval: '200ms' },
    devices: [{
      id: CAMERA,
      name: 'East gate camera',
      profile: 'generic/onvif-ipc',
      // No picture analysis here (analyse: 0): this test is about health and events, and two cores.
      connection: { protocol: 'onvif', host: '127.0.0.1', port: sim.port, username: 'admin', password: PASSWORD, vendor: 'hikvision', timeout: '3s', sample: '1.5s', analyse: 0 },
      location: { lon: 101.04, lat: 38.8 },
      pollInterval: '1s',
      offlineAfterMisses: 1,
    }],
  }));
  const config = loadEdgeConfig(file);
  t.ok(config.ruleFiles.some((f) => f.endsWith('camera.yaml')), 'the profile brings its default rules (rules/library/camera.yaml)');
  const agent = new EdgeAgent(config, { logger: silentLogger() });
  await agent.start();
  t.teardown(() => agent.stop());

  // Online: the probe of the stream the camera advertises, in the edge's telemetry.
  const telemetry = join(dir, 'edge-data', 'telemetry.db');
  const latest = (point: string) => {
    let db: Database.Database | undefined;
    try {
      db = new Database(telemetry, { readonly: true, fileMustExist: true });
      return db.prepare('SELECT value_num, value_str, quality, reason FROM reading WHERE device_id = ? AND point = ? ORDER BY ts DESC, rowid DESC LIMIT 1').get(CAMERA, point) as
        | { value_num: number | null; value_str: string | null; quality: string; reason: string | null }
        | undefined;
    } catch {
      return undefined;
    } finally {
      db?.close();
    }
  };
  await waitFor('the camera online', () => (agent.status().devices[0]?.health === 'online' ? true : undefined));
  const online = await waitFor('an online reading', () => (latest('online')?.quality === 'good' ? latest('online') : undefined));
  t.equal(online.value_num, 1, 'online 1: the stream answered with video');
  t.match(await waitFor('a codec reading', () => latest('codec')), { value_str: 'h264', quality: 'good' });
  t.match(latest('width'), { value_num: 320, quality: 'good' });
  t.equal(agent.status().buses[0]?.busId, `bus:onvif://127.0.0.1:${sim.port}`);
  await waitFor('subscribed to the camera\'s events', () => (sim.subscriptions === 1 && latest('tamper') ? true : undefined));
  t.match(latest('tamper'), { value_num: 0, quality: 'good' }, 'the event states came with the subscription');

  // A tamper event from the camera: a reading, and the camera-tamper-event rule raises video_tamper.
  sim.emit('tamper', true);
  const tamper = await waitFor('video_tamper raised', () => sink.accepted.find((a) => a.type === 'video_tamper' && a.action === 'raise'));
  t.match(tamper, { deviceId: CAMERA, ruleId: 'camera-tamper-event', value: 1, severity: 'major', profile: 'generic/onvif-ipc' });
  t.match(await waitFor('the tamper reading', () => (latest('tamper')?.value_num === 1 ? latest('tamper') : undefined)), { value_num: 1, quality: 'good' }, 'the event is in the telemetry');
  sim.emit('tamper', false);
  await waitFor('video_tamper cleared', () => sink.accepted.find((a) => a.alarmId === tamper.alarmId && a.action === 'clear'));

  // The stream stops (the camera's encoder or the link to it): camera_offline, not device_offline.
  await rtsp.stop();
  const offline = await waitFor('camera_offline raised', () => sink.accepted.find((a) => a.type === 'camera_offline' && a.action === 'raise'));
  t.match(offline, { deviceId: CAMERA, ruleId: 'health.camera_offline', severity: 'minor', profile: 'generic/onvif-ipc', location: { lon: 101.04, lat: 38.8 } });
  t.match(offline.message, /camera cam-east-gate stopped answering \(rtsp_unreachable\)/);
  t.equal(agent.status().devices[0]?.health, 'offline');
  t.notOk(sink.accepted.some((a) => a.type === 'device_offline' || a.type === 'bus_offline'), 'no device_offline or bus_offline for a camera');

  // It comes back: the same alarm is cleared.
  await rtsp.start();
  const cleared = await waitFor('camera_offline cleared', () => sink.accepted.find((a) => a.alarmId === offline.alarmId && a.action === 'clear'));
  t.match(cleared, { type: 'camera_offline', seq: 1, message: /camera cam-east-gate answers again/ });
  await waitFor('online again', () => (agent.status().devices[0]?.health === 'online' ? true : undefined));

  await agent.stop();
  await waitFor('the edge unsubscribed when it stopped', () => (sim.subscriptions === 0 ? true : undefined), 10_000, 20);
});
