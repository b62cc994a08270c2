// Modbus RTU framing over TCP (a serial device server in transparent mode), against pymodbus serving
// RTU frames on a TCP socket. MBAP-framed requests would go unanswered there, so these passing shows
// the driver really frames RTU on the socket.
import t from 'tap';
import { systemClock } from '../../../contracts/clock.js';
import type { ProfilePoint as Point } from '../../../contracts/profile.js';
import { ProfileLibrary } from '../../../device-profiles/library.js';
import { PymodbusServer } from '../../../test/helpers/pymodbus.js';
import { freePort, needs, pythonHasModule } from '../../../test/helpers/services.js';
import { waitFor } from '../../../test/helpers/wait.js';
import { silentLogger } from '../../log.js';
import { systemScheduler } from '../../scheduler.js';
import { ModbusRtuTcpDriver } from './driver.js';

const PYMODBUS = 'pymodbus (Debian python3-pymodbus, run by /usr/bin/python3)';
const gauge = ProfileLibrary.load().get('generic/radar-water-level-gauge');
const deps = () => ({ clock: systemClock, scheduler: systemScheduler, random: Math.random, logger: silentLogger() });
const conn = (port: number, unitId: number, extra: object = {}) => ({ protocol: 'modbus-rtu-tcp', host: '127.0.0.1', port, unitId, timeout: '300ms', ...extra });
const raw = (rs: Array<{ ok: boolean; value?: unknown; reason?: string }>) => rs.map((r) => (r.ok ? r.value : r.reason));

t.test('two slaves behind one serial server: one link, RTU frames, one request per poll each', async (t) => {
  if (!(await needs(t, PYMODBUS, () => pythonHasModule('pymodbus')))) return;
  const server = await new PymodbusServer({ units: [1, 4], framer: 'rtu', init: '1@holding:0=380,4@holding:0=120,holding:3=1,holding:4=121' }).start();
  t.teardown(() => server.stop());
  const driver = new ModbusRtuTcpDriver(deps());
  const a = driver.open(conn(server.port, 1));
  const b = driver.open(conn(server.port, 4));
  t.teardown(() => Promise.all([a.close(), b.close()]));
  t.equal(driver.openLinks, 1);
  t.equal(a.busId, `bus:rtu-tcp://127.0.0.1:${server.port}`);
  const [ra, rb] = await Promise.all([a.read(gauge.points), b.read(gauge.points)]);
  t.same(raw(ra), [380, 0, true, 121]);
  t.same(raw(rb), [120, 0, true, 121]);
  await server.sync();
  t.same(server.requests, [{ unit: 1, fc: 3, address: 0, count: 5 }, { unit: 4, fc: 3, address: 0, count: 5 }]);

  await a.write(gauge.points[0]!, 399);
  t.same(raw(await a.read(gauge.points.slice(0, 1))), [399], 'a write over RTU-over-TCP reads back');
  t.same(raw(await a.read([{ name: 'x', type: 'number', modbus: { table: 'holding_register', address: 9999, dataType: 'uint32' } } as Point])), ['modbus_exception_2_illegal_data_address']);
  const ghost = driver.open(conn(server.port, 9, { retries: 0 }));
  t.teardown(() => ghost.close());
  t.match(await ghost.read(gauge.points.slice(0, 1)), [{ ok: false, reason: 'timeout', unreachable: true }], 'a slave that is not on the line: timeout');
});

t.test('the serial server restarts: unreachable meanwhile, then back', async (t) => {
  if (!(await needs(t, PYMODBUS, () => pythonHasModule('pymodbus')))) return;
  const server = await new PymodbusServer({ units: [1], framer: 'rtu', init: 'holding:0=5' }).start();
  t.teardown(() => server.stop());
  const session = new ModbusRtuTcpDriver(deps(), { reconnect: { baseMs: 20, capMs: 100 } }).open(conn(server.port, 1));
  t.teardown(() => session.close());
  t.same(raw(await session.read(gauge.points.slice(0, 1))), [5]);
  await server.stop();
  const down = await waitFor('a failed read', async () => {
    const r = await session.read(gauge.points.slice(0, 1));
    return r[0]!.ok ? undefined : r[0]!;
  });
  t.match(down, { reason: /^(connection_lost|connection_refused)$/, unreachable: true });
  await server.start();
  await waitFor('a good read', async () => ((await session.read(gauge.points.slice(0, 1)))[0]!.ok ? true : undefined));
  t.pass('reconnected');
});

t.test('nobody listening: connection_refused', async (t) => {
  const session = new ModbusRtuTcpDriver(deps()).open(conn(await freePort(), 1));
  t.teardown(() => session.close());
  t.match(await session.read(gauge.points.slice(0, 1)), [{ ok: false, reason: 'connection_refused', unreachable: true }]);
});
