// A rule action on real Modbus: pymodbus plays a smoke detector (unit 1) and a sound-and-light alarm
// (unit 2) on one gateway; the real edge agent polls the detector, raises smoke_alarm, and the rule's
// actions sound the siren — a coil write (FC 5) that pymodbus sees and keeps — and silence it when the
// alarm clears. A siren that does not answer fails its action (logged with a code) and the alarm goes
// to the cloud all the same. Also: the configuration refuses action targets the edge does not have.
import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify as toYaml } from 'yaml';
import { isGsError } from '../../contracts/errors.js';
import { EdgeAgent } from '../agent.js';
import { loadEdgeConfig } from '../config.js';
import { ModbusClientClass } from '../drivers/modbus/transport.js';
import { silentLogger } from '../log.js';
import { AlarmSink } from '../../test/helpers/alarm-sink.js';
import { PymodbusServer } from '../../test/helpers/pymodbus.js';
import { needs, pythonHasModule } from '../../test/helpers/services.js';
import { waitFor } from '../../test/helpers/wait.js';

const PROFILES = fileURLToPath(new URL('../../test/fixtures/profiles', import.meta.url));

const RULES = `rules:
  - id: smoke-siren
    alarm: smoke_alarm
    severity: critical
    match: { kind: smoke_detector }
    point: smoke_alarm
    value: { equals: true }
    actions:
      - on: raise
        write: { device: siren-hall, point: siren, value: true }
      - on: clear
        write: { device: siren-hall, point: siren, value: false }
`;

function writeConfig(dir: string, o: { cloud: string; port: number; rules?: string; siren?: string }): string {
  writeFileSync(join(dir, 'rules.yaml'), o.rules ?? RULES);
  const file = join(dir, 'edge.yaml');
  writeFileSync(file, toYaml({
    edge: { id: 'town-qingquan', dataDir: './edge-data' },
    cloud: { url: o.cloud, token: 'siren-test-token' },
    profiles: [PROFILES],
    rules: ['./rules.yaml'],
    devices: [
      { id: 'smoke-hall', profile: 'generic/photoelectric-smoke-detector', connection: { protocol: 'modbus-tcp', host: '127.0.0.1', port: o.port, unitId: 1, timeout: '1s' }, pollInterval: '200ms' },
      { id: o.siren ?? 'siren-hall', profile: 'acme/sound-light-siren', connection: { protocol: 'modbus-tcp', host: '127.0.0.1', port: o.port, unitId: 2, timeout: '500ms', retries: 0 }, pollInterval: '5s' },
    ],
  }));
  return file;
}

async function readCoil(port: number, unit: number, address: number): Promise<boolean> {
  const c = new ModbusClientClass();
  await c.connectTCP('127.0.0.1', { port });
  c.setID(unit);
  c.setTimeout(2000);
  try {
    return (await c.readCoils(address, 1)).data[0] === true;
  } finally {
    await new Promise<void>((r) => c.close(() => r()));
  }
}

t.test('smoke sounds the siren over a Modbus coil, the clear silences it; a dead siren never holds back the alarm', async (t) => {
  if (!(await needs(t, 'pymodbus (Debian python3-pymodbus, run by /usr/bin/python3)', () => pythonHasModule('pymodbus')))) return;
  const slave = await new PymodbusServer({ units: [1, 2], init: '1@holding:3=240,1@holding:4=90,2@holding:0=240' }).start();
  t.teardown(() => slave.stop());
  const sink = await new AlarmSink().start();
  t.teardown(() => sink.stop());
  const dir = mkdtempSync(join(tmpdir(), 'gridsense-siren-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const agent = new EdgeAgent(loadEdgeConfig(writeConfig(dir, { cloud: sink.url, port: slave.port })), { logger: silentLogger() });
  await agent.start();
  t.teardown(() => agent.stop());
  await waitFor('the detector polled', () => (agent.status().devices.find((d) => d.deviceId === 'smoke-hall')?.health === 'online' ? true : undefined));
  t.equal(await readCoil(slave.port, 2, 0), false, 'the siren is silent');

  // Smoke: the status word's bit 0.
  await slave.set(1, 'holding', 1, [1]);
  const raised = await waitFor('smoke_alarm raised', () => sink.accepted.find((a) => a.type === 'smoke_alarm' && a.action === 'raise'));
  await waitFor('the siren written', () => (agent.actions!.runner.stats.writes === 1 ? true : undefined));
  await slave.sync();
  t.match(slave.seen(2, 5), [{ unit: 2, fc: 5, address: 0 }], 'pymodbus saw one Write Single Coil (FC 5) to coil 0 of the siren');
  t.equal(await readCoil(slave.port, 2, 0), true, 'and the siren sounds');

  await slave.set(1, 'holding', 1, [0]);
  await waitFor('smoke_alarm cleared', () => sink.accepted.find((a) => a.alarmId === raised.alarmId && a.action === 'clear'));
  await waitFor('the siren written again', () => (agent.actions!.runner.stats.writes === 2 ? true : undefined));
  await slave.sync();
  t.equal(slave.seen(2, 5).length, 2, 'a second FC 5');
  t.equal(await readCoil(slave.port, 2, 0), false, 'the clear silenced it');

  // The siren stops answering: the next smoke alarm still reaches the cloud; the write fails, logged.
  await slave.mute(2);
  await slave.set(1, 'holding', 1, [1]);
  const again = await waitFor('a second smoke_alarm raised', () => sink.accepted.find((a) => a.type === 'smoke_alarm' && a.action === 'raise' && a.alarmId !== raised.alarmId));
  t.ok(again, 'the alarm is delivered whatever the siren does');
  await waitFor('the failed write counted', () => (agent.actions!.runner.stats.writeFailures === 1 ? true : undefined));
  t.equal(agent.actions!.runner.stats.writes, 2, 'no write succeeded while the siren was mute');
});

t.test('edge.yaml refuses action targets it does not have', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'gridsense-siren-check-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const rules = `rules:
  - id: smoke-siren
    alarm: smoke_alarm
    severity: critical
    match: { kind: smoke_detector }
    point: smoke_alarm
    value: { equals: true }
    actions:
      - on: raise
        write: { device: siren-nowhere, point: siren, value: true }
      - on: raise
        write: { point: smoke_density, value: 1 }
      - on: raise
        write: { device: siren-hall, point: siren, value: 7 }
      - on: raise
        snapshot: { cameras: [smoke-hall] }
      - on: raise
        snapshot: {}
      - on: raise
        snapshot: { within: 30 }
`;
  const file = writeConfig(dir, { cloud: 'http://127.0.0.1:9', port: 1502, rules });
  let err: unknown;
  try {
    loadEdgeConfig(file);
  } catch (e) {
    err = e;
  }
  if (!isGsError(err)) throw new Error(`expected GS_ERR_CONFIG_INVALID, got ${String(err)}`);
  t.equal(err.code, 'GS_ERR_CONFIG_INVALID');
  const got = err.details.map((d) => `${d.path}: ${d.message.replace(/ \(line \d+\)$/, '')}`);
  const rulesFile = join(dir, 'rules.yaml');
  t.ok(err.details.every((d) => d.file === rulesFile), 'each problem names the rule file');
  t.match(got, [
    /^\/rules\/0\/actions\/0\/write\/device: no device "siren-nowhere"/,
    '/rules/0/actions/1/write/point: point "smoke_density" of device "smoke-hall" is read-only',
    '/rules/0/actions/2/write/value: point "siren" is a boolean; 7 is not',
    '/rules/0/actions/3/snapshot/cameras/0: "smoke-hall" is not a camera',
    /^\/rules\/0\/actions\/4\/snapshot: device "smoke-hall" has no linked cameras/,
    '/rules/0/actions/5/snapshot/within: device "smoke-hall" has neither linked cameras nor a location to measure "within" from',
  ]);
  t.equal(got.length, 6);
});
