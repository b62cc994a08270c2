// Modbus RTU on a serial line against a real, third-party stack: pymodbus serving several unit ids on
// one end of a socat pty pair, our driver on the other — real RTU frames with CRCs through real ttys.
import t, { type Test } from 'tap';
import { systemClock } from '../../../contracts/clock.js';
import { BYTE_ORDERS, type ByteOrder, type ProfilePoint as Point } from '../../../contracts/profile.js';
import { startRtuLine, type RtuLine } from '../../../test/helpers/pymodbus.js';
import { needs, pythonHasModule } from '../../../test/helpers/services.js';
import { socatAvailable } from '../../../test/helpers/socat.js';
import { silentLogger } from '../../log.js';
import { systemScheduler } from '../../scheduler.js';
import type { RawPointValue, Session } from '../driver.js';
import { ModbusRtuDriver } from './driver.js';

const PYMODBUS = 'pymodbus (Debian python3-pymodbus, run by /usr/bin/python3)';
const SOCAT = 'socat (Debian socat), for a pty pair standing in for an RS-485 line';
const deps = () => ({ clock: systemClock, scheduler: systemScheduler, random: Math.random, logger: silentLogger() });

async function line(t: Test, units: number[]): Promise<RtuLine | undefined> {
  if (!(await needs(t, PYMODBUS, () => pythonHasModule('pymodbus')))) return undefined;
  if (!(await needs(t, SOCAT, socatAvailable))) return undefined;
  const l = await startRtuLine({ units });
  t.teardown(() => l.stop());
  return l;
}

const conn = (path: string, unitId: number, extra: object = {}) => ({ protocol: 'modbus-rtu', port: path, baudRate: 9600, unitId, timeout: '300ms', retries: 0, ...extra });
const reg = (name: string, address: number, dataType: string, extra: object = {}): Point =>
  ({ name, type: dataType === 'string' ? 'string' : 'number', modbus: { table: 'holding_register', address, dataType, ...extra } }) as Point;
const values = (raws: RawPointValue[]) => Object.fromEntries(raws.map((r) => [r.point, r.ok ? r.value : r.reason]));

/** One value of every data type, the same layout for each byte order: 16 registers per order. */
const SAMPLES: Array<{ type: string; offset: number; value: number | string; length?: number }> = [
  { type: 'int16', offset: 0, value: -12345 },
  { type: 'uint16', offset: 1, value: 54321 },
  { type: 'int32', offset: 2, value: -123456789 },
  { type: 'uint32', offset: 4, value: 3_000_000_000 },
  { type: 'float32', offset: 6, value: Math.fround(-123.456) },
  { type: 'float64', offset: 8, value: Math.PI },
  { type: 'string', offset: 12, value: 'RWL-20', length: 3 },
];
const BITS_OFFSET = 15;
const BITS_WORD = 0x8005; // bits 0, 2 and 15 set
const base = (order: ByteOrder) => BYTE_ORDERS.indexOf(order) * 16;

function typedPoints(): Point[] {
  const points: Point[] = [];
  for (const order of BYTE_ORDERS) {
    for (const s of SAMPLES) points.push(reg(`${s.type}_${order.toLowerCase()}`, base(order) + s.offset, s.type, { order, ...(s.length ? { length: s.length } : {}) }));
    for (const bit of [0, 1, 2, 15]) {
      points.push({ name: `bit${bit}_${order.toLowerCase()}`, type: 'boolean', modbus: { table: 'holding_register', address: base(order) + BITS_OFFSET, dataType: 'bool', bit, order } });
    }
  }
  return points;
}

t.test('every data type in every byte order, as pymodbus encodes them, from two units on one line, one request each', async (t) => {
  const l = await line(t, [2, 5]);
  if (!l) return;
  const { server } = l;
  for (const unit of [2, 5]) {
    const sign = unit === 2 ? 1 : -1; // unit 5 holds other values, so a mixed-up unit id shows
    for (const order of BYTE_ORDERS) {
      for (const s of SAMPLES) {
        const v = typeof s.value === 'number' && s.type !== 'uint16' && s.type !== 'uint32' ? sign * s.value : s.value;
        const text = typeof v === 'number' && s.type.startsWith('float') ? v.toPrecision(17) : String(v);
        await server.put(unit, 'holding', base(order) + s.offset, s.type, order, unit === 5 && s.type === 'string' ? 'UNIT-5' : text);
      }
      await server.put(unit, 'holding', base(order) + BITS_OFFSET, 'uint16', order, BITS_WORD);
    }
  }
  const driver = new ModbusRtuDriver(deps());
  const two = driver.open(conn(l.path, 2));
  const five = driver.open(conn(l.path, 5));
  t.teardown(() => Promise.all([two.close(), five.close()]));
  t.equal(driver.openLinks, 1, 'two slaves on one serial port share one link');
  t.equal(two.busId, `bus:rtu:${l.path}`);
  t.equal(five.busId, two.busId, 'same line, same bus id');

  const points = typedPoints();
  const [a, b] = await Promise.all([two.read(points), five.read(points)]);
  for (const [unit, raws] of [[2, a], [5, b]] as const) {
    const got = values(raws!);
    const sign = unit === 2 ? 1 : -1;
    for (const order of BYTE_ORDERS) {
      const o = order.toLowerCase();
      t.same(
        SAMPLES.map((s) => got[`${s.type}_${o}`]),
        SAMPLES.map((s) => (s.type === 'string' ? (unit === 5 ? 'UNIT-5' : s.value) : s.type.startsWith('uint') ? s.value : sign * (s.value as number))),
        `unit ${unit}, ${order}: int16 uint16 int32 uint32 float32 float64 string`,
      );
      t.same([0, 1, 2, 15].map((bit) => got[`bit${bit}_${o}`]), [true, false, true, true], `unit ${unit}, ${order}: bit fields`);
    }
  }
  await server.sync();
  t.same(server.seen(2), [{ unit: 2, fc: 3, address: 0, count: 64 }], 'unit 2: 44 points in one FC 3 request');
  t.same(server.seen(5), [{ unit: 5, fc: 3, address: 0, count: 64 }], 'unit 5: the same');
});

t.test('coils and discrete inputs: single bits and a bank of coils, batched per table', async (t) => {
  const l = await line(t, [1]);
  if (!l) return;
  await l.server.set(1, 'coil', 0, [1, 0, 1, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
  await l.server.set(1, 'discrete', 10, [0, 1]);
  const session = new ModbusRtuDriver(deps()).open(conn(l.path, 1));
  t.teardown(() => session.close());
  const coil = (name: string, address: number, dataType = 'bool'): Point => ({ name, type: dataType === 'bool' ? 'boolean' : 'number', modbus: { table: 'coil', address, dataType } }) as Point;
  const points: Point[] = [
    coil('pump', 0),
    coil('valve', 1),
    coil('siren', 2),
    coil('relays', 3, 'uint16'), // coils 3–18: the first coil is bit 0
    { name: 'door', type: 'boolean', modbus: { table: 'discrete_input', address: 10, dataType: 'bool' } },
    { name: 'tamper', type: 'boolean', modbus: { table: 'discrete_input', address: 11, dataType: 'bool' } },
  ];
  t.same(values(await session.read(points)), { pump: true, valve: false, siren: true, relays: 0b1000_0000_0000_0101, door: false, tamper: true });
  await l.server.sync();
  t.same(l.server.requests, [{ unit: 1, fc: 1, address: 0, count: 19 }, { unit: 1, fc: 2, address: 10, count: 2 }], 'one FC 1 and one FC 2 request');
});

t.test('writes: FC 5, 15, 6 and 16 on the line, a bit set by read-modify-write, values read back', async (t) => {
  const l = await line(t, [3]);
  if (!l) return;
  await l.server.set(3, 'holding', 7, [0b0100]);
  const session = new ModbusRtuDriver(deps()).open(conn(l.path, 3));
  t.teardown(() => session.close());
  const points: Point[] = [
    { name: 'pump', type: 'boolean', modbus: { table: 'coil', address: 0, dataType: 'bool' } },
    { name: 'relays', type: 'number', modbus: { table: 'coil', address: 8, dataType: 'uint16' } },
    reg('setpoint', 1, 'uint16'),
    reg('level', 2, 'float32', { order: 'CDAB' }),
    reg('tag', 4, 'string', { length: 3 }),
    { name: 'alarm_ack', type: 'boolean', modbus: { table: 'holding_register', address: 7, dataType: 'bool', bit: 0 } },
  ];
  const by = (n: string) => points.find((p) => p.name === n)!;
  await session.write(by('pump'), true);
  await session.write(by('relays'), 0x0103);
  await session.write(by('setpoint'), 4321);
  await session.write(by('level'), 123.456);
  await session.write(by('tag'), 'GS-01');
  await session.write(by('alarm_ack'), true);
  await l.server.sync();
  t.same(l.server.requests.map((r) => [r.fc, r.address, r.count]), [[5, 0, 1], [15, 8, 16], [6, 1, 1], [16, 2, 2], [16, 4, 3], [3, 7, 1], [6, 7, 1]], 'FC 5, 15, 6, 16, 16, then 3 + 6 for the bit');
  t.same(values(await session.read(points)), { pump: true, relays: 0x0103, setpoint: 4321, level: Math.fround(123.456), tag: 'GS-01', alarm_ack: true });
  const raw = await session.read([reg('w2', 2, 'uint16'), reg('w3', 3, 'uint16'), reg('w7', 7, 'uint16')]);
  t.same(values(raw), { w2: 0xe979, w3: 0x42f6, w7: 0b0101 }, 'float32 CDAB is low word first on the wire; bit 2 survived the bit write');
  await t.rejects(session.write(by('setpoint'), 70_000), { code: 'GS_ERR_DRIVER_VALUE' }, 'a value that does not fit never reaches the bus');
});

t.test('exception responses are bad readings naming the exception; a missing register does not blank its neighbours', async (t) => {
  const l = await line(t, [1, 2]);
  if (!l) return;
  await l.server.set(1, 'holding', 9998, [42]);
  const driver = new ModbusRtuDriver(deps());
  const one = driver.open(conn(l.path, 1));
  const two = driver.open(conn(l.path, 2));
  t.teardown(() => Promise.all([one.close(), two.close()]));
  const points = [reg('near_end', 9998, 'uint16'), reg('past_end', 9999, 'uint32')];
  t.same(await one.read(points), [
    { point: 'near_end', ok: true, value: 42 },
    { point: 'past_end', ok: false, reason: 'modbus_exception_2_illegal_data_address', unreachable: false },
  ]);
  await l.server.answerWithException(2, 6);
  const busy = await two.read([reg('level', 0, 'uint16')]);
  t.same(busy, [{ point: 'level', ok: false, reason: 'modbus_exception_6_server_device_busy', unreachable: false }], 'a busy slave answered: bad reading, not unreachable');
  await l.server.answerWithException(2, 4);
  t.match(await two.read([reg('level', 0, 'uint16')]), [{ reason: 'modbus_exception_4_server_device_failure' }]);
  await l.server.answerWithException(2, 0);
  t.match(await two.read([reg('level', 0, 'uint16')]), [{ ok: true, value: 0 }], 'answers again');
});

t.test('a unit id nobody has: timeouts, retried, device unreachable; the open port is shared and closed with the last session', async (t) => {
  const l = await line(t, [1]);
  if (!l) return;
  const driver = new ModbusRtuDriver(deps());
  const ghost: Session = driver.open(conn(l.path, 9, { retries: 1 }));
  const real = driver.open(conn(l.path, 1));
  const [bad, good] = await Promise.all([ghost.read([reg('x', 0, 'uint16')]), real.read([reg('x', 0, 'uint16')])]);
  t.match(bad, [{ ok: false, reason: 'timeout', unreachable: true }]);
  t.match(good, [{ ok: true }]);
  await ghost.close();
  t.equal(driver.openLinks, 1);
  await real.close();
  t.equal(driver.openLinks, 0, 'the serial port is closed');
  // Closed means released: the port opens again (a leaked open port would hold its exclusive lock).
  const again = driver.open(conn(l.path, 1));
  t.match(await again.read([reg('x', 0, 'uint16')]), [{ ok: true }], 'the port opens again');
  await again.close();
});
