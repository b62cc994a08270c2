// End to end, every part real: pymodbus plays a photoelectric smoke detector in a nursing home, a
// camera linked to it streams H.264 from GStreamer's RTSP server; the real edge agent polls the
// detector, its rule raises smoke_alarm and its action takes a picture of the linked camera's live
// stream; the alarm reaches the real cloud and opens a 消防安全 grid event, the JPEG follows through
// the evidence queue, and the event's evidence serves it — a real JPEG, decoded by ffprobe, to the
// county and to the town's key, not to another town's.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify as toYaml } from 'yaml';
import { isJpeg, sha256Hex } from '../../contracts/jpeg.js';
import { EdgeAgent } from '../../edge/agent.js';
import { loadEdgeConfig } from '../../edge/config.js';
import { silentLogger } from '../../edge/log.js';
import { ffprobeDecodes } from '../helpers/jpeg.js';
import { PymodbusServer } from '../helpers/pymodbus.js';
import { GST_RTSP_SERVER, GstRtspServer, gstRtspServerAvailable } from '../helpers/rtsp-server.js';
import { needs, pythonHasModule } from '../helpers/services.js';
import { waitFor } from '../helpers/wait.js';
import { ADMIN_TOKEN, getJson, startCounty, type EventJson } from './county.js';

const FFMPEG = 'ffmpeg (Debian ffmpeg: ffmpeg and ffprobe)';
const ffmpegAvailable = () => ['ffmpeg', 'ffprobe'].every((b) => spawnSync(b, ['-version'], { stdio: 'ignore' }).status === 0);

type Evidence = { id: string; cameraId: string; sha256: string; size: number; available: boolean; url: string };

t.test('a smoke alarm from a Modbus detector becomes a grid event whose evidence is a JPEG of the linked camera', async (t) => {
  if (!(await needs(t, 'pymodbus (Debian python3-pymodbus, run by /usr/bin/python3)', () => pythonHasModule('pymodbus')))) return;
  if (!(await needs(t, FFMPEG, ffmpegAvailable))) return;
  if (!(await needs(t, GST_RTSP_SERVER, gstRtspServerAvailable))) return;
  // Supply 24.0 V, battery 90 %, temperature 21.5 °C; no smoke.
  const detector = await new PymodbusServer({ init: 'holding:2=215,holding:3=240,holding:4=90' }).start();
  t.teardown(() => detector.stop());
  const rtsp = await new GstRtspServer({ width: 320, height: 240, fps: 10, gop: 5 }).start();
  t.teardown(() => rtsp.stop());
  const county = await startCounty();
  t.teardown(() => county.close());

  writeFileSync(join(county.dir, 'fire-evidence.yaml'), `rules:
  - id: smoke-alarm-evidence
    description: Fire alarm from a smoke detector, with pictures (烟感火警)
    alarm: smoke_alarm
    severity: critical
    match: { kind: smoke_detector }
    point: smoke_alarm
    value: { equals: true }
    message: "Smoke detector {device} in fire alarm (火警)"
    actions:
      - on: raise
        snapshot: { within: 50 }
`);
  const file = join(county.dir, 'edge.yaml');
  writeFileSync(file, toYaml({
    edge: { id: 'town-qingquan', dataDir: './edge-data' },
    cloud: { url: county.url, token: county.edgeToken },
    rules: ['./fire-evidence.yaml'],
    devices: [
      {
        id: 'smoke-nh-101', name: 'Nursing home room 101', profile: 'generic/photoelectric-smoke-detector',
        connection: { protocol: 'modbus-tcp', host: '127.0.0.1', port: detector.port, unitId: 1, timeout: '1s' },
        location: { lon: 101.04, lat: 38.8 }, site: 'nursing_home', pollInterval: '300ms',
        cameras: ['cam-nh-corridor'],
      },
      {
        // Its health probe is rare and light here: this test is about the snapshot.
        id: 'cam-nh-corridor', name: 'Nursing home corridor', profile: 'generic/rtsp-camera',
        connection: { protocol: 'rtsp', url: rtsp.url('live'), analyse: 0, sample: '1s' },
        location: { lon: 101.0401, lat: 38.8 }, pollInterval: '60s',
      },
    ],
  }));
  const agent = new EdgeAgent(loadEdgeConfig(file), { logger: silentLogger() });
  await agent.start();
  t.teardown(() => agent.stop());
  await waitFor('the detector online', () => (agent.status().devices.find((d) => d.deviceId === 'smoke-nh-101')?.health === 'online' ? true : undefined));

  // Smoke in room 101: status word bit 0 (火警).
  await detector.set(1, 'holding', 1, [1]);
  const event = await waitFor('a fire-safety event', async () => {
    const { items } = await getJson<{ items: EventJson[] }>(`${county.url}/api/v1/events`);
    return items.find((e) => e.deviceId === 'smoke-nh-101');
  });
  t.equal(event.alarmType, 'smoke_alarm');
  t.equal(event.category, 'fire_safety');
  t.equal(event.gridId, 'qingquan-riverside-g01');

  const evidence = await waitFor('the picture uploaded and listed with the event', async () => {
    const d = await getJson<EventJson & { evidence?: Evidence[] }>(`${county.url}/api/v1/events/${event.id}`);
    return d.evidence?.length && d.evidence.every((e) => e.available) ? d.evidence : undefined;
  }, 60_000);
  t.equal(evidence.length, 1, 'one picture: the linked camera');
  t.match(evidence[0], { cameraId: 'cam-nh-corridor', available: true });

  const res = await fetch(`${county.url}${evidence[0]!.url}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  t.equal(res.status, 200);
  t.equal(res.headers.get('content-type'), 'image/jpeg');
  const jpeg = Buffer.from(await res.arrayBuffer());
  t.same([...jpeg.subarray(0, 3)], [0xff, 0xd8, 0xff], 'JPEG magic');
  t.ok(isJpeg(jpeg), 'ends with the EOI marker');
  t.equal(sha256Hex(jpeg), evidence[0]!.sha256, 'the bytes are the ones the event names');
  t.equal(jpeg.length, evidence[0]!.size);
  t.equal(ffprobeDecodes(jpeg), 'mjpeg 320x240', "ffprobe decodes it at the camera stream's size");

  // Town scope: Qingquan's key sees it, Dongle's does not.
  const key = async (townId: string) => {
    const r = await fetch(`${county.url}/api/v1/api-keys`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` }, body: JSON.stringify({ name: `${townId}-desk`, role: 'dispatcher', townId }) });
    return ((await r.json()) as { key: string }).key;
  };
  const as = async (k: string) => (await fetch(`${county.url}${evidence[0]!.url}`, { headers: { authorization: `Bearer ${k}` } })).status;
  t.equal(await as(await key('qingquan')), 200, "the town's own key");
  t.equal(await as(await key('dongle')), 404, "another town's key");
  t.equal(agent.actions!.evidence.depth(), 0, 'nothing left in the edge queue');
});
