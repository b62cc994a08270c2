// How devices share one serial line: turns, write priority, the quiet gap after a transaction, and a
// USB adapter pulled out and plugged back. Against pymodbus on a socat pty pair; the order and number
// of requests the slaves saw is the evidence, virtual time only decides when timers are due.
import t, { type Test } from 'tap';
import { ManualClock } from '../../../contracts/clock.js';
import type { ProfilePoint as Point } from '../../../contracts/profile.js';
import { PymodbusServer, startRtuLine } from '../../../test/helpers/pymodbus.js';
import { ManualScheduler } from '../../../test/helpers/manual-scheduler.js';
import { needs, pythonHasModule } from '../../../test/helpers/services.js';
import { SocatPtyPair, socatAvailable } from '../../../test/helpers/socat.js';
import { waitFor } from '../../../test/helpers/wait.js';
import { silentLogger } from '../../log.js';
import { ModbusRtuDriver } from './driver.js';

const level: Point = { name: 'level', type: 'number', modbus: { table: 'holding_register', address: 0, dataType: 'uint16' } };
const setpoint: Point = { name: 'setpoint', type: 'number', modbus: { table: 'holding_register', address: 5, dataType: 'uint16' } };

async function available(t: Test): Promise<boolean> {
  if (!(await needs(t, 'pymodbus (Debian python3-pymodbus, run by /usr/bin/python3)', () => pythonHasModule('pymodbus')))) return false;
  return needs(t, 'socat (Debian socat)', socatAvailable);
}

function manualDeps() {
  const clock = new ManualClock(0);
  const scheduler = new ManualScheduler(clock);
  return { clock, scheduler, random: () => 0.5, logger: silentLogger() };
}

t.test('a write goes ahead of the polls waiting for the line, but after the one on it', async (t) => {
  if (!(await available(t))) return;
  const line = await startRtuLine({ units: [1, 2, 3] });
  t.teardown(() => line.stop());
  const driver = new ModbusRtuDriver(manualDeps());
  const [one, two, three] = [1, 2, 3].map((unitId) => driver.open({ protocol: 'modbus-rtu', port: line.path, unitId }));
  t.teardown(() => Promise.all([one!.close(), two!.close(), three!.close()]));
  await one!.read([level]); // connected, so the polls below queue behind each other, not behind a connect

  const polls = [one!.read([level]), two!.read([level]), three!.read([level])];
  const write = three!.write(setpoint, 42);
  await Promise.all([...polls, write]);
  await line.server.sync();
  t.same(
    line.server.requests.slice(1).map((r) => `${r.unit}:${r.fc}`),
    ['1:3', '3:6', '2:3', '3:3'],
    "unit 1's poll was already on the line; unit 3's write went before the polls of units 2 and 3",
  );
});

t.test('interRequestGap: the line stays quiet after a transaction before the next one starts', async (t) => {
  if (!(await available(t))) return;
  const line = await startRtuLine({ units: [1, 2] });
  t.teardown(() => line.stop());
  const deps = manualDeps();
  const driver = new ModbusRtuDriver(deps);
  const slow = driver.open({ protocol: 'modbus-rtu', port: line.path, unitId: 1, interRequestGap: '40ms' });
  const other = driver.open({ protocol: 'modbus-rtu', port: line.path, unitId: 2 });
  t.teardown(() => Promise.all([slow.close(), other.close()]));
  const both = Promise.all([slow.read([level]), other.read([level])]);
  await waitFor('the quiet gap after unit 1', () => (deps.scheduler.pending.includes(40) ? true : undefined));
  await line.server.sync();
  t.same(line.server.requests.map((r) => r.unit), [1], 'unit 2 waits while the line rests');
  deps.scheduler.advance(40);
  const [a, b] = await both;
  t.match([a, b], [[{ ok: true }], [{ ok: true }]]);
  await line.server.sync();
  t.same(line.server.requests.map((r) => r.unit), [1, 2], 'then it goes');
});

t.test('a serial adapter pulled out: reads fail fast while the link backs off; plugged back, it reconnects', async (t) => {
  if (!(await available(t))) return;
  const pty = new SocatPtyPair();
  t.teardown(() => pty.dispose());
  await pty.start();
  let server = await new PymodbusServer({ units: [1], init: 'holding:0=77', serial: { path: pty.a } }).start();
  t.teardown(() => server.stop());
  const deps = manualDeps();
  const driver = new ModbusRtuDriver(deps, { reconnect: { baseMs: 1000, capMs: 30_000 } });
  const session = driver.open({ protocol: 'modbus-rtu', port: pty.b, unitId: 1, timeout: '300ms' });
  t.teardown(() => session.close());
  t.match(await session.read([level]), [{ ok: true, value: 77 }]);

  await server.stop();
  await pty.stop();
  // The port closing under the link schedules the reconnect: full jitter at random 0.5 over 1 s.
  await waitFor('the link to notice the port is gone', () => (deps.scheduler.pending.includes(500) ? true : undefined));
  t.match(await session.read([level]), [{ ok: false, reason: 'connection_lost', unreachable: true }]);

  await pty.start();
  server = await new PymodbusServer({ units: [1], init: 'holding:0=78', serial: { path: pty.a } }).start();
  t.match(await session.read([level]), [{ ok: false, reason: 'connection_lost' }], 'still backing off: fails fast without trying');
  await server.sync();
  t.same(server.requests, [], 'nothing went on the line');

  deps.scheduler.advance(500);
  t.match(await session.read([level]), [{ ok: true, value: 78 }], 'reopened the port after the backoff');
});

t.test('a serial port that does not exist: a stable reason, and the link backs off', async (t) => {
  const deps = manualDeps();
  const session = new ModbusRtuDriver(deps).open({ protocol: 'modbus-rtu', port: '/dev/gridsense-no-such-tty', unitId: 1 });
  t.teardown(() => session.close());
  t.match(await session.read([level]), [{ ok: false, reason: 'serial_port_not_found', unreachable: true }]);
  t.equal(deps.scheduler.pending.length, 1, 'a reconnect is scheduled');
  t.match(await session.read([level]), [{ ok: false, reason: 'serial_port_not_found' }], 'and until then reads fail fast');
});
