// One slave on a shared RS-485 line goes silent. Its polls must stop costing the line timeouts, so its
// healthy neighbours keep one request per poll cycle; it is probed once per backoff period and back
// to normal polling on its first answer. Proven by counting the requests the slaves (pymodbus, on a
// socat pty pair) received; virtual time decides only when a probe is due.
import t from 'tap';
import { ManualClock } from '../../../contracts/clock.js';
import type { ProfilePoint as Point } from '../../../contracts/profile.js';
import { startRtuLine } from '../../../test/helpers/pymodbus.js';
import { ManualScheduler } from '../../../test/helpers/manual-scheduler.js';
import { needs, pythonHasModule } from '../../../test/helpers/services.js';
import { socatAvailable } from '../../../test/helpers/socat.js';
import { silentLogger } from '../../log.js';
import type { RawPointValue } from '../driver.js';
import { ModbusRtuDriver } from './driver.js';

const points: Point[] = [
  { name: 'level', type: 'number', modbus: { table: 'holding_register', address: 0, dataType: 'uint16' } },
  { name: 'voltage', type: 'number', modbus: { table: 'holding_register', address: 1, dataType: 'uint16' } },
];

t.test('a dead slave is quarantined; its neighbours keep one request per cycle; it is probed, then healthy again', async (t) => {
  if (!(await needs(t, 'pymodbus (Debian python3-pymodbus, run by /usr/bin/python3)', () => pythonHasModule('pymodbus')))) return;
  if (!(await needs(t, 'socat (Debian socat)', socatAvailable))) return;
  const line = await startRtuLine({ units: [1, 2, 3], init: 'holding:0=250,holding:1=121' });
  t.teardown(() => line.stop());
  const { server } = line;
  const clock = new ManualClock(0);
  const scheduler = new ManualScheduler(clock);
  // random 0.5: probes after 750, 1500, 3000… ms of virtual time (3/4 of each doubling window).
  const driver = new ModbusRtuDriver({ clock, scheduler, random: () => 0.5, logger: silentLogger() }, { quarantine: { baseMs: 1000, capMs: 60_000 } });
  const sessions = [1, 2, 3].map((unitId) => driver.open({ protocol: 'modbus-rtu', port: line.path, unitId, timeout: '200ms', retries: 1 }));
  t.teardown(() => Promise.all(sessions.map((s) => s.close())));

  const reasons: string[] = [];
  /** One poll cycle: every device read once, all at the same time, as their pollers would. */
  const cycle = async () => {
    const [a, b, c] = await Promise.all(sessions.map((s) => s.read(points)));
    for (const healthy of [a!, c!]) t.ok(healthy.every((r) => r.ok), 'the neighbours answer');
    const dead = b!.find((r): r is Extract<RawPointValue, { ok: false }> => !r.ok);
    reasons.push(dead ? `${dead.reason}${dead.unreachable ? '' : ' (answered)'}` : 'ok');
  };
  const counts = async () => {
    await server.sync();
    return [1, 2, 3].map((u) => server.seen(u).length);
  };

  await cycle();
  t.same(await counts(), [1, 1, 1], 'all three polled once');

  await server.mute(2);
  for (let i = 0; i < 6; i++) await cycle();
  t.same(await counts(), [7, 3, 7], 'the dead slave cost two requests (one try, one retry), then none; neighbours one per cycle');
  t.same(reasons.slice(1), ['timeout', 'quarantined', 'quarantined', 'quarantined', 'quarantined', 'quarantined']);
  t.ok(server.seen(2).slice(1).every((r) => r.muted), 'those two went unanswered');

  scheduler.advance(750);
  await cycle();
  await cycle();
  t.same(await counts(), [9, 4, 9], 'one probe when its period is up (no retry), then quiet again');
  t.same(reasons.slice(-2), ['timeout', 'quarantined']);

  scheduler.advance(1499);
  await cycle();
  t.same(await counts(), [10, 4, 10], 'the next period is longer: no probe 1499 ms later');

  await server.unmute(2);
  await cycle();
  t.same(await counts(), [11, 4, 11], 'back, but nobody knows until the probe');
  scheduler.advance(1);
  await cycle();
  t.same(reasons.at(-1), 'ok', 'the probe is answered: good readings at once');
  for (let i = 0; i < 3; i++) await cycle();
  t.same(await counts(), [15, 8, 15], 'healthy again: one request per cycle, like its neighbours');
  t.same(reasons.slice(-4), ['ok', 'ok', 'ok', 'ok']);
});
