// The Modbus TCP driver against a real, third-party Modbus stack (pymodbus), bytes on a real socket.
import t from 'tap';
import { systemClock } from '../../../contracts/clock.js';
import { ProfileLibrary } from '../../../device-profiles/library.js';
import { PymodbusServer } from '../../../test/helpers/pymodbus.js';
import { freePort, needs, pythonHasModule } from '../../../test/helpers/services.js';
import { writeHolding } from '../../../test/helpers/modbus-client.js';
import { silentLogger } from '../../log.js';
import { applyProfile } from '../../pipeline/apply-profile.js';
import type { ProfilePoint as Point } from '../../../contracts/profile.js';
import { systemScheduler } from '../../scheduler.js';
import { ModbusTcpDriver } from './driver.js';

const PYMODBUS = 'pymodbus (Debian python3-pymodbus, run by /usr/bin/python3)';
const gauge = ProfileLibrary.load().get('generic/radar-water-level-gauge');
const deps = () => ({ clock: systemClock, scheduler: systemScheduler, random: Math.random, logger: silentLogger() });
const conn = (port: number, extra: object = {}) => ({ protocol: 'modbus-tcp', host: '127.0.0.1', port, unitId: 1, timeout: '1s', ...extra });

t.test('reads every gauge point with the right value and unit, in one request per contiguous block', async (t) => {
  if (!(await needs(t, PYMODBUS, () => pythonHasModule('pymodbus')))) return;
  // 3.80 m; air distance 66 036 mm as uint32 ABCD (high word 1, low word 500); signal fault bit; 12.1 V.
  const server = await new PymodbusServer({ init: 'holding:0=380,holding:1=0,holding:2=8200,holding:3=1,holding:4=121' }).start();
  t.teardown(() => server.stop());
  const driver = new ModbusTcpDriver(deps());
  const session = driver.open(conn(server.port));
  t.teardown(() => session.close());

  const raws = await session.read(gauge.points);
  t.same(raws.map((r) => (r.ok ? r.value : r.reason)), [380, 8200, true, 121], 'raw values');
  const readings = applyProfile('wl-1', gauge, raws, 1000);
  t.same(readings.map((r) => [r.point, r.value, r.unit, r.quality]), [
    ['water_level', 3.8, 'm', 'good'],
    ['air_distance', 8.2, 'm', 'good'],
    ['signal_fault', true, undefined, 'good'],
    ['supply_voltage', 12.1, 'V', 'good'],
  ]);
  // pymodbus logs each request on stdout, which may arrive just after the response.
  await server.sync();
  t.same(server.requests, [{ unit: 1, fc: 3, address: 0, count: 5 }], 'registers 0–4 in one FC 3 request');

  await writeHolding(server.port, 1, [1, 500]);
  const again = applyProfile('wl-1', gauge, await session.read(gauge.points), 2000);
  t.match(again[1], { point: 'air_distance', value: null, quality: 'bad', reason: 'out_of_range' }, 'uint32 high word counts: 65 536 + 500 mm is out of range');
  await server.sync();
  t.same(server.seen(1, 3).slice(1), [{ unit: 1, fc: 3, address: 0, count: 5 }], 'still one request per poll');
});

t.test('a register beyond the device is a bad reading naming the exception; its neighbours still read', async (t) => {
  if (!(await needs(t, PYMODBUS, () => pythonHasModule('pymodbus')))) return;
  const server = await new PymodbusServer({ init: 'holding:9998=42,input:7=9' }).start();
  t.teardown(() => server.stop());
  const session = new ModbusTcpDriver(deps()).open(conn(server.port));
  t.teardown(() => session.close());
  const points: Point[] = [
    { name: 'near_end', type: 'number', modbus: { table: 'holding_register', address: 9998, dataType: 'uint16' } },
    { name: 'past_end', type: 'number', modbus: { table: 'holding_register', address: 9999, dataType: 'uint32' } },
    { name: 'input', type: 'number', modbus: { table: 'input_register', address: 7, dataType: 'uint16' } },
    { name: 'no_address', type: 'number' },
  ];
  const raws = await session.read(points);
  t.same(raws, [
    { point: 'near_end', ok: true, value: 42 },
    { point: 'past_end', ok: false, reason: 'modbus_exception_2_illegal_data_address', unreachable: false },
    { point: 'input', ok: true, value: 9 },
    { point: 'no_address', ok: false, reason: 'no_modbus_attributes', unreachable: false },
  ]);
});

t.test('a unit id the server does not have times out: bad readings, device unreachable', async (t) => {
  if (!(await needs(t, PYMODBUS, () => pythonHasModule('pymodbus')))) return;
  const server = await new PymodbusServer({ units: [1] }).start();
  t.teardown(() => server.stop());
  const driver = new ModbusTcpDriver(deps());
  const missing = driver.open(conn(server.port, { unitId: 7, timeout: '200ms', retries: 0 }));
  const present = driver.open(conn(server.port, { unitId: 1 }));
  t.teardown(() => Promise.all([missing.close(), present.close()]));
  t.equal(driver.openLinks, 1, 'two units behind one endpoint share one link');
  t.equal(missing.busId, `bus:tcp://127.0.0.1:${server.port}`, 'the bus id names the endpoint');
  t.equal(present.busId, missing.busId, 'one endpoint, one bus');
  const [bad, good] = await Promise.all([missing.read(gauge.points), present.read(gauge.points)]);
  t.ok(bad.every((r) => !r.ok && r.reason === 'timeout' && r.unreachable), 'every point of unit 7 timed out');
  t.ok(good.every((r) => r.ok), 'unit 1 on the same link still answers');
});

t.test('writes go out as Modbus writes and read back', async (t) => {
  if (!(await needs(t, PYMODBUS, () => pythonHasModule('pymodbus')))) return;
  const server = await new PymodbusServer({ init: 'holding:3=4' }).start();
  t.teardown(() => server.stop());
  const session = new ModbusTcpDriver(deps()).open(conn(server.port));
  t.teardown(() => session.close());
  const byName = (n: string) => gauge.points.find((p) => p.name === n)!;
  await session.write(byName('water_level'), 412);
  await session.write(byName('air_distance'), 70_000);
  await session.write(byName('signal_fault'), true);
  const raws = await session.read(gauge.points);
  t.same(raws.map((r) => (r.ok ? r.value : r.reason)), [412, 70_000, true, 0]);
  const reg3 = await session.read([{ name: 'status', type: 'number', modbus: { table: 'holding_register', address: 3, dataType: 'uint16' } }]);
  t.same(reg3.map((r) => (r.ok ? r.value : r.reason)), [5], 'setting bit 0 kept bit 2');
  await t.rejects(session.write({ name: 'x', type: 'number', modbus: { table: 'input_register', address: 0, dataType: 'uint16' } }, 1), { code: 'GS_ERR_DRIVER_VALUE' });
});

t.test('closing the last session closes the link; a closed session refuses work', async (t) => {
  if (!(await needs(t, PYMODBUS, () => pythonHasModule('pymodbus')))) return;
  const server = await new PymodbusServer().start();
  t.teardown(() => server.stop());
  const driver = new ModbusTcpDriver(deps());
  const a = driver.open(conn(server.port));
  const b = driver.open(conn(server.port, { unitId: 2 }));
  await a.read(gauge.points);
  await a.close();
  await a.close();
  t.equal(driver.openLinks, 1, 'b still holds the link');
  await b.close();
  t.equal(driver.openLinks, 0);
  await t.rejects(a.read(gauge.points), { code: 'GS_ERR_DRIVER_CLOSED' });
});

t.test('nobody listening: bad readings with connection_refused, fast', async (t) => {
  const port = await freePort();
  const session = new ModbusTcpDriver(deps()).open(conn(port));
  t.teardown(() => session.close());
  const raws = await session.read(gauge.points);
  t.ok(raws.every((r) => !r.ok && r.reason === 'connection_refused' && r.unreachable), 'all points: connection_refused');
});
