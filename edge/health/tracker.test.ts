import t from 'tap';
import { healthEnvelope } from './envelope.js';
import { HealthTracker, offlineTypeFor, type HealthAlarm } from './tracker.js';

const BUS = 'bus:rtu:/dev/ttyUSB0';
const T0 = Date.UTC(2026, 6, 1, 8, 0, 0);

/** Three smoke detectors on one RS-485 line polled every 10 s, and a gauge on its own TCP link. */
function tracker(): HealthTracker {
  return new HealthTracker([
    { id: 'smoke-1', busId: BUS, pollIntervalMs: 10_000 },
    { id: 'smoke-2', busId: BUS, pollIntervalMs: 10_000 },
    { id: 'smoke-3', busId: BUS, pollIntervalMs: 10_000 },
    { id: 'gauge', busId: 'bus:tcp://10.0.0.9:502', pollIntervalMs: 20_000 },
  ]);
}

function brief(alarms: HealthAlarm[]): string[] {
  return alarms.map((a) => `${a.action} ${a.type} ${a.subject} #${a.seq}`);
}

t.test('a device alone on its link raises device_offline at once and clears when it answers', async (t) => {
  const h = tracker();
  h.observe('gauge', true, T0);
  const down = h.observe('gauge', false, T0 + 60_000, 'connection_refused');
  t.same(brief(down), ['raise device_offline gauge #0']);
  t.match(down[0]!.message, /connection_refused/, 'the reason is in the message');
  t.equal(h.health('gauge'), 'offline');
  t.same(h.observe('gauge', false, T0 + 61_000), [], 'a second offline report raises nothing');
  const up = h.observe('gauge', true, T0 + 90_000);
  t.same(brief(up), ['clear device_offline gauge #1']);
  t.equal(up[0]!.alarmId, down[0]!.alarmId, 'the clear names the raised alarm');
});

t.test('one dead slave on a shared line: its own alarm after the settle window, neighbours untouched', async (t) => {
  const h = tracker();
  for (const id of ['smoke-1', 'smoke-2', 'smoke-3']) h.observe(id, true, T0);
  t.same(h.observe('smoke-2', false, T0 + 30_000), [], 'nothing yet: the rest of the bus may follow');
  t.equal(h.nextDeadline(), T0 + 50_000, 'settle window = two of the slowest polls on the bus');
  t.same(h.due(T0 + 49_999), []);
  t.same(brief(h.due(T0 + 50_000)), ['raise device_offline smoke-2 #0']);
  t.equal(h.nextDeadline(), undefined);
  t.equal(h.health('smoke-1'), 'online');
});

t.test('a cut line: one bus alarm, no device alarms, devices unknown; back: bus cleared', async (t) => {
  const h = tracker();
  for (const id of ['smoke-1', 'smoke-2', 'smoke-3']) h.observe(id, true, T0);
  const out = [
    ...h.observe('smoke-1', false, T0 + 30_000, 'timeout'),
    ...h.observe('smoke-2', false, T0 + 33_000, 'timeout'),
    ...h.observe('smoke-3', false, T0 + 36_000, 'timeout'),
  ];
  t.same(brief(out), [`raise bus_offline ${BUS} #0`], 'one alarm for the line');
  t.same(out[0]!.devices, ['smoke-1', 'smoke-2', 'smoke-3'], 'it names the devices behind it');
  t.same(h.due(T0 + 100_000), [], 'the pending device alarms were dropped');
  t.same(['smoke-1', 'smoke-2', 'smoke-3'].map((id) => h.health(id)), ['unknown', 'unknown', 'unknown']);
  t.same(h.busStatus().find((b) => b.busId === BUS)?.down, true);

  // The line is mended; smoke-3 has also died meanwhile and does not come back.
  const back = [...h.observe('smoke-1', true, T0 + 200_000), ...h.observe('smoke-2', true, T0 + 201_000)];
  t.same(brief(back), [`clear bus_offline ${BUS} #1`]);
  t.equal(h.health('smoke-3'), 'offline', 'a neighbour still silent is offline again, not unknown');
  t.same(brief(h.due(T0 + 221_000)), ['raise device_offline smoke-3 #0'], 'and raises its own alarm after the window');
});

t.test('a device alarmed on its own before the line went keeps its alarm through the bus alarm', async (t) => {
  const h = tracker();
  for (const id of ['smoke-1', 'smoke-2', 'smoke-3']) h.observe(id, true, T0);
  h.observe('smoke-3', false, T0);
  t.same(brief(h.due(T0 + 20_000)), ['raise device_offline smoke-3 #0']);
  const out = [...h.observe('smoke-1', false, T0 + 50_000), ...h.observe('smoke-2', false, T0 + 52_000)];
  t.same(brief(out), [`raise bus_offline ${BUS} #0`]);
  t.equal(h.health('smoke-3'), 'offline', 'its own alarm stands');
  t.same(brief(h.observe('smoke-3', true, T0 + 90_000)), ['clear device_offline smoke-3 #1', `clear bus_offline ${BUS} #1`]);
});

t.test('active alarms survive a restart; alarms of devices no longer configured are cleared', async (t) => {
  const h = tracker();
  h.observe('gauge', false, T0);
  const raised = h.observe('smoke-1', false, T0);
  t.same(raised, []);
  h.due(T0 + 20_000);
  const saved = JSON.parse(JSON.stringify(h.exportState()));

  const next = new HealthTracker([{ id: 'gauge', pollIntervalMs: 20_000 }]);
  const cleared = next.restore(saved, T0 + 100_000);
  t.same(brief(cleared), ['clear device_offline smoke-1 #1'], 'smoke-1 was taken out of the config');
  t.match(cleared[0]!.message, /no longer configured/);
  t.same(brief(next.observe('gauge', true, T0 + 120_000)), ['clear device_offline gauge #1'], 'the gauge clears the alarm raised before the restart');
});

t.test('unknown devices and repeated online reports raise nothing', async (t) => {
  const h = tracker();
  t.same(h.observe('nope', false, T0), []);
  t.same(h.observe('gauge', true, T0), []);
  t.same(h.observe('gauge', true, T0 + 1), []);
});

t.test('a camera raises camera_offline (its kind\'s type), clears it the same way, also after a restart', async (t) => {
  t.equal(offlineTypeFor('camera'), 'camera_offline');
  t.equal(offlineTypeFor('water_level'), 'device_offline');
  t.equal(offlineTypeFor(undefined), 'device_offline');
  const h = new HealthTracker([
    { id: 'cam-1', busId: 'bus:onvif://10.0.0.7:80', pollIntervalMs: 60_000, offlineType: offlineTypeFor('camera') },
    { id: 'gauge', pollIntervalMs: 20_000 },
  ]);
  h.observe('cam-1', true, T0);
  const down = h.observe('cam-1', false, T0 + 60_000, 'rtsp_unreachable');
  t.same(brief(down), ['raise camera_offline cam-1 #0'], 'alone on its bus: at once');
  t.match(down[0], { ruleId: 'health.camera_offline', severity: 'minor', message: 'camera cam-1 stopped answering (rtsp_unreachable)' });
  t.same(brief(h.observe('gauge', false, T0 + 60_000)), ['raise device_offline gauge #0'], 'other kinds keep device_offline');
  const envelope = healthEnvelope(down[0]!, () => ({ profile: 'generic/onvif-ipc', location: { lon: 101, lat: 38 } }));
  t.match(envelope, { type: 'camera_offline', deviceId: 'cam-1', profile: 'generic/onvif-ipc', location: { lon: 101, lat: 38 } }, 'the envelope names the camera\'s profile');

  // Saved and restored: the clear carries camera_offline too, whether the camera answers or is taken out.
  const saved = JSON.parse(JSON.stringify(h.exportState()));
  const same = new HealthTracker([{ id: 'cam-1', busId: 'bus:onvif://10.0.0.7:80', pollIntervalMs: 60_000, offlineType: 'camera_offline' }]);
  same.restore(saved, T0 + 100_000);
  const up = same.observe('cam-1', true, T0 + 120_000);
  t.same(brief(up), ['clear camera_offline cam-1 #1']);
  t.equal(up[0]!.alarmId, down[0]!.alarmId);
  t.equal(up[0]!.message, 'camera cam-1 answers again');
  const removed = new HealthTracker([]).restore(saved, T0 + 100_000);
  t.same(brief(removed).sort(), ['clear camera_offline cam-1 #1', 'clear device_offline gauge #1'], 'a camera taken out of the config clears its camera_offline');
});
