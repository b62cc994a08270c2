import t from 'tap';
import { systemClock } from '../../../contracts/clock.js';
import { silentLogger, type Logger } from '../../log.js';
import { systemScheduler } from '../../scheduler.js';
import { defaultDrivers } from '../index.js';
import { resolveModbusRtu, resolveModbusRtuTcp, resolveModbusTcp } from './connection.js';
import { ModbusRtuDriver } from './driver.js';
import { longestExchangeMs } from './validate-connection.js';

const drivers = defaultDrivers({ logger: silentLogger() });
const problems = (conn: Record<string, unknown>) => drivers.get(conn.protocol as string).validateConnection(conn as { protocol: string });

t.test('the three Modbus drivers are registered and read Modbus profiles', async (t) => {
  for (const p of ['modbus-tcp', 'modbus-rtu', 'modbus-rtu-tcp']) {
    t.ok(drivers.has(p), p);
    t.equal(drivers.get(p).profileProtocol, 'modbus');
  }
});

t.test('good connection blocks pass; defaults fill the rest', async (t) => {
  t.same(problems({ protocol: 'modbus-rtu', port: '/dev/ttyUSB0' }), []);
  t.same(problems({ protocol: 'modbus-rtu', port: '/dev/ttyS1', baudRate: 19200, parity: 'even', dataBits: 8, stopBits: 1, unitId: 12, timeout: '500ms', retries: 2, maxGap: 4, interRequestGap: '20ms' }), []);
  t.same(problems({ protocol: 'modbus-rtu-tcp', host: '10.0.0.7', port: 4001, unitId: 3 }), []);
  t.same(problems({ protocol: 'modbus-tcp', host: '10.0.0.5' }), []);
  t.same(resolveModbusRtu({ protocol: 'modbus-rtu', port: '/dev/ttyUSB0' }), {
    path: '/dev/ttyUSB0', serial: { baudRate: 9600, parity: 'none', dataBits: 8, stopBits: 1 },
    unitId: 1, timeoutMs: 1000, retries: 1, maxGap: 0, gapMs: 0,
  }, '9600 8N1, unit 1, 1 s timeout, one retry');
  t.same(resolveModbusRtuTcp({ protocol: 'modbus-rtu-tcp', host: 'h', port: 8899, interRequestGap: '15ms' }), { host: 'h', port: 8899, unitId: 1, timeoutMs: 1000, retries: 1, maxGap: 0, gapMs: 15 });
  t.match(resolveModbusTcp({ protocol: 'modbus-tcp', host: 'h' }), { port: 502, unitId: 1 });
});

t.test('bad fields get one message each, saying what the field must be', async (t) => {
  const got = problems({ protocol: 'modbus-rtu', port: 502, baudRate: 12.5, parity: 'mark', dataBits: 7, stopBits: 3, unitId: 0, interRequestGap: 'soon', colour: 'red' });
  const by = Object.fromEntries(got.map((p) => [p.path, p.message]));
  t.equal(got.length, Object.keys(by).length, 'one problem per path');
  t.match(by['/port'], /serial device path, e\.g\. \/dev\/ttyUSB0.*modbus-rtu-tcp/);
  t.match(by['/baudRate'], /^must be a baud rate such as 9600/);
  t.equal(by['/parity'], 'must be none, even or odd');
  t.match(by['/dataBits'], /always carry 8 data bits \(7 is Modbus ASCII\)/);
  t.equal(by['/stopBits'], 'must be 1 or 2');
  t.match(by['/unitId'], /1-247 \(0 is broadcast/);
  t.match(by['/interRequestGap'], /duration such as 20ms/);
  t.equal(by['/colour'], 'is not a known field');
});

t.test('missing fields are named on the block, with what they should hold', async (t) => {
  t.same(problems({ protocol: 'modbus-rtu' }), [{ path: '', message: 'needs port: the serial device path, e.g. /dev/ttyUSB0 (a serial server on the network is protocol modbus-rtu-tcp with host and port)' }]);
  const rtuTcp = problems({ protocol: 'modbus-rtu-tcp' });
  t.equal(rtuTcp.length, 1);
  t.match(rtuTcp[0], { path: '', message: /needs host: .*; needs port: .*no default/ });
  t.match(problems({ protocol: 'modbus-tcp', port: 70000 }), [{ path: '' , message: /host/ }, { path: '/port', message: /1-65535/ }]);
});

t.test('checks a schema cannot make: zero timeout, a long gap, a timeout the line is too slow for', async (t) => {
  t.match(problems({ protocol: 'modbus-rtu-tcp', host: 'h', port: 1, timeout: '0s' }), [{ path: '/timeout', message: /longer than 0/ }]);
  t.match(problems({ protocol: 'modbus-rtu', port: '/dev/ttyUSB0', interRequestGap: '1m' }), [{ path: '/interRequestGap', message: /starve the other slaves/ }]);
  t.equal(longestExchangeMs(9600, 'none', 1), 274, '263 bytes × 10 bits at 9600 baud');
  t.equal(longestExchangeMs(1200, 'even', 1), 2411, 'with a parity bit: 11 bits a byte');
  t.same(problems({ protocol: 'modbus-rtu', port: '/dev/ttyUSB0', baudRate: 1200 }), [{
    path: '/timeout',
    message: 'must be at least 2192ms: at 1200 baud a full 125-register answer takes that long on the line (the default, 1000ms, is too short: set timeout)',
  }]);
  t.match(problems({ protocol: 'modbus-rtu', port: '/dev/ttyUSB0', baudRate: 9600, timeout: '200ms' }), [{ path: '/timeout', message: /at least 274ms.*got 200ms/ }]);
  t.same(problems({ protocol: 'modbus-rtu', port: '/dev/ttyUSB0', baudRate: 1200, timeout: '3s' }), []);
});

t.test('devices on one serial port share its link; one asking for other line settings is logged, not obeyed', async (t) => {
  const warnings: Array<{ obj: object; msg?: string }> = [];
  const logger: Logger = {
    debug: () => undefined, info: () => undefined, error: () => undefined,
    warn: (obj, msg) => void warnings.push({ obj, ...(msg !== undefined ? { msg } : {}) }),
    child: () => logger,
  };
  const driver = new ModbusRtuDriver({ clock: systemClock, scheduler: systemScheduler, random: Math.random, logger });
  const a = driver.open({ protocol: 'modbus-rtu', port: '/dev/ttyUSB7', unitId: 1 });
  const b = driver.open({ protocol: 'modbus-rtu', port: '/dev/ttyUSB7', unitId: 2, baudRate: 9600 });
  t.equal(warnings.length, 0, 'same settings (defaults spelled out): nothing to say');
  const c = driver.open({ protocol: 'modbus-rtu', port: '/dev/ttyUSB7', unitId: 3, baudRate: 19200, parity: 'even' });
  t.equal(driver.openLinks, 1, 'still one link: nothing was opened yet, and nothing is opened twice');
  t.match(warnings, [{ obj: { port: '/dev/ttyUSB7', line: '9600 8N1', asked: '19200 8E1', unitId: 3 }, msg: /disagree/ }]);
  t.equal(a.busId, 'bus:rtu:/dev/ttyUSB7');
  await Promise.all([a.close(), b.close(), c.close()]);
  t.equal(driver.openLinks, 0);
});
