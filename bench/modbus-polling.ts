// Modbus polling cost: N devices (unit ids behind one Modbus TCP endpoint, a modbus-serial ServerTCP in
// a child process, so the gateway's CPU is measured alone) with M points each, every device polled
// once a second for a few seconds. The gateway under test is our driver: sessions sharing one link,
// reads planned into blocks, taking turns. The anchor, in the same run against the same slave, is what
// a naive gateway does: a plain modbus-serial client reading the same registers one point at a time.
// Printed: points and registers per second, requests per poll cycle beside the fewest possible, CPU
// ms per 1,000 points, and what the requests would cost on a 9600-baud RS-485 line (computed).
//
//   npx tsx bench/modbus-polling.ts          (BENCH_DEVICES=50, BENCH_POINTS=20, BENCH_SECONDS=5)
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import ModbusRTU from 'modbus-serial';
import { systemClock } from '../contracts/clock.js';
import type { ModbusDataType, ProfilePoint as Point } from '../contracts/profile.js';
import { freePort } from '../demo/sim/free-port.js';
import type { Session } from '../edge/drivers/driver.js';
import { decodeRegisters, pointWidth } from '../edge/drivers/modbus/codec.js';
import { ModbusTcpDriver } from '../edge/drivers/modbus/driver.js';
import { planReads } from '../edge/drivers/modbus/plan.js';
import { ModbusClientClass } from '../edge/drivers/modbus/transport.js';
import { silentLogger } from '../edge/log.js';
import { systemScheduler } from '../edge/scheduler.js';

const DEVICES = Number(process.env.BENCH_DEVICES ?? 50);
const POINTS = Number(process.env.BENCH_POINTS ?? 20);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const INTERVAL_MS = 1000;

/** The slave's answer to a register: different per unit and address, so a mixed-up read shows. */
const registerValue = (unit: number, addr: number) => (unit * 1009 + addr * 31) & 0xffff;

// ---- the slave, in its own process --------------------------------------------------------------
if (process.argv.includes('--slave')) {
  let requests = 0;
  let registers = 0;
  const port = await freePort();
  const server = new ModbusRTU.ServerTCP(
    {
      // ServerTCP calls the first for reads of 2+ registers, the second for a single one.
      getMultipleHoldingRegisters: (addr: number, length: number, unitID: number) => {
        requests++;
        registers += length;
        return Array.from({ length }, (_, i) => registerValue(unitID, addr + i));
      },
      getHoldingRegister: (addr: number, unitID: number) => {
        requests++;
        registers++;
        return registerValue(unitID, addr);
      },
    },
    { host: '127.0.0.1', port, unitID: 255 }, // 255: answer every unit id, as a gateway to N devices does
  );
  await new Promise<void>((resolve) => server.once('initialized', () => resolve()));
  process.on('message', (m: { cmd: string }) => {
    if (m.cmd === 'count') process.send!({ requests, registers });
    if (m.cmd === 'stop') server.close(() => process.exit(0));
  });
  process.send!({ port });
} else {
  await main();
}

// ---- the gateway side ---------------------------------------------------------------------------
interface Result {
  name: string;
  seconds: number;
  points: number;
  registers: number;
  requests: number;
  cycles: number;
  cpuMs: number;
}

/** A device's points: a mix of types packed from register 0, as a typical meter's map is. */
function devicePoints(): Point[] {
  const types: ModbusDataType[] = ['uint16', 'int16', 'float32', 'uint32', 'int32'];
  const out: Point[] = [];
  let address = 0;
  for (let i = 0; i < POINTS; i++) {
    const dataType = types[i % types.length]!;
    const modbus = { table: 'holding_register' as const, address, dataType, order: 'ABCD' as const };
    out.push({ name: `p${i}`, type: 'number', modbus });
    address += pointWidth(modbus);
  }
  return out;
}

async function main(): Promise<void> {
  const slave = fork(fileURLToPath(import.meta.url), ['--slave'], { execArgv: ['--import', 'tsx'], stdio: 'inherit' });
  const ask = <T>(cmd: string) =>
    new Promise<T>((resolve) => {
      slave.once('message', (m) => resolve(m as T));
      slave.send({ cmd });
    });
  const { port } = await new Promise<{ port: number }>((resolve) => slave.once('message', (m) => resolve(m as { port: number })));
  const points = devicePoints();
  const registersPerDevice = points.reduce((n, p) => n + pointWidth(p.modbus!), 0);
  const minRequestsPerDevice = Math.ceil(registersPerDevice / 125);
  try {
    await sanityCheck(port, points);
    const runs: Result[] = [];
    runs.push(await measure('anchor: modbus-serial, one request per point', naiveGateway(port, points)));
    runs.push(await measure('gridsense modbus driver (planned reads, one link)', driverGateway(port, points)));
    report(runs, registersPerDevice, minRequestsPerDevice);
  } finally {
    slave.send({ cmd: 'stop' });
  }

  async function measure(name: string, gateway: Gateway): Promise<Result> {
    await gateway.start();
    await sleep(1000); // warm-up: JIT, connections
    const before = await ask<{ requests: number; registers: number }>('count');
    gateway.reset();
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await sleep(SECONDS * 1000);
    const cpu = process.cpuUsage(cpu0);
    const seconds = (performance.now() - t0) / 1000;
    const after = await ask<{ requests: number; registers: number }>('count');
    const counts = gateway.counts();
    await gateway.stop();
    return {
      name, seconds, points: counts.points, cycles: counts.cycles,
      requests: after.requests - before.requests, registers: after.registers - before.registers,
      cpuMs: (cpu.user + cpu.system) / 1000,
    };
  }
}

interface Gateway {
  start(): Promise<void>;
  /** Zeroes the counters (after the warm-up). */
  reset(): void;
  /** Points read with a value, and device poll cycles completed, since reset. */
  counts(): { points: number; cycles: number };
  stop(): Promise<void>;
}

/** Each device on its own 1 s cadence, spread over the second (as the edge agent does), reads through our driver. */
function driverGateway(port: number, points: Point[]): Gateway {
  const driver = new ModbusTcpDriver({ clock: systemClock, scheduler: systemScheduler, random: Math.random, logger: silentLogger() });
  const sessions: Session[] = [];
  const timers: NodeJS.Timeout[] = [];
  let stopped = false;
  let okPoints = 0;
  let cycles = 0;
  const running = new Set<Promise<void>>();
  return {
    async start() {
      for (let u = 1; u <= DEVICES; u++) sessions.push(driver.open({ protocol: 'modbus-tcp', host: '127.0.0.1', port, unitId: u, timeout: '2s' }));
      sessions.forEach((s, i) => {
        let busy = false;
        const poll = () => {
          if (stopped || busy) return; // a poll still running: skip this tick, as the poller does
          busy = true;
          const p = s.read(points).then((raws) => {
            okPoints += raws.filter((r) => r.ok).length;
            cycles++;
          }).finally(() => {
            busy = false;
            running.delete(p);
          });
          running.add(p);
        };
        timers.push(setTimeout(() => {
          poll();
          timers.push(setInterval(poll, INTERVAL_MS));
        }, Math.floor((i / sessions.length) * INTERVAL_MS)));
      });
    },
    reset() { okPoints = 0; cycles = 0; },
    counts: () => ({ points: okPoints, cycles }),
    async stop() {
      stopped = true;
      for (const t of timers) clearTimeout(t);
      await Promise.all(running);
      await Promise.all(sessions.map((s) => s.close()));
    },
  };
}

/** What a naive gateway does: once a second, every point of every device, one request each, in a row. */
function naiveGateway(port: number, points: Point[]): Gateway {
  const client = new ModbusClientClass();
  let stopped = false;
  let okPoints = 0;
  let cycles = 0;
  let loop: Promise<void> = Promise.resolve();
  return {
    async start() {
      await client.connectTCP('127.0.0.1', { port });
      client.setTimeout(2000);
      loop = (async () => {
        while (!stopped) {
          const start = performance.now();
          for (let u = 1; u <= DEVICES && !stopped; u++) {
            client.setID(u);
            for (const p of points) {
              const m = p.modbus!;
              const r = await client.readHoldingRegisters(m.address, pointWidth(m));
              decodeRegisters(r.buffer, m);
              okPoints++;
            }
            cycles++;
          }
          const rest = INTERVAL_MS - (performance.now() - start);
          if (rest > 0 && !stopped) await sleep(rest);
        }
      })();
    },
    reset() { okPoints = 0; cycles = 0; },
    counts: () => ({ points: okPoints, cycles }),
    async stop() {
      stopped = true;
      await loop;
      await new Promise<void>((r) => client.close(() => r()));
    },
  };
}

/** Both gateways must read the same values, or the comparison means nothing. */
async function sanityCheck(port: number, points: Point[]): Promise<void> {
  const driver = new ModbusTcpDriver({ clock: systemClock, scheduler: systemScheduler, random: Math.random, logger: silentLogger() });
  const session = driver.open({ protocol: 'modbus-tcp', host: '127.0.0.1', port, unitId: 7 });
  const ours = (await session.read(points)).map((r) => (r.ok ? r.value : r.reason));
  await session.close();
  const client = new ModbusClientClass();
  await client.connectTCP('127.0.0.1', { port });
  client.setTimeout(2000);
  client.setID(7);
  const naive = [];
  for (const p of points) naive.push(decodeRegisters((await client.readHoldingRegisters(p.modbus!.address, pointWidth(p.modbus!))).buffer, p.modbus!));
  await new Promise<void>((r) => client.close(() => r()));
  if (JSON.stringify(ours) !== JSON.stringify(naive)) throw new Error(`the two gateways disagree:\n${JSON.stringify(ours)}\n${JSON.stringify(naive)}`);
  if (planReads(points).length !== 1) throw new Error('expected one planned request per device');
}

/** Bytes an RTU exchange puts on the line (request 8; answer 5 + 2 per register) plus 3.5 characters of silence after each frame. */
function rtuSecondsAt9600(requests: number, registers: number): number {
  const bytes = requests * (8 + 5 + 2 * 3.5) + registers * 2;
  return (bytes * 10) / 9600;
}

function report(runs: Result[], registersPerDevice: number, minPerDevice: number): void {
  const [anchor, ours] = runs as [Result, Result];
  const row = (r: Result) => {
    const perCycle = r.cycles > 0 ? (r.requests / r.cycles) * DEVICES : 0;
    return [
      r.name,
      Math.round(r.points / r.seconds).toLocaleString('en-US'),
      Math.round(r.registers / r.seconds).toLocaleString('en-US'),
      `${perCycle.toFixed(0)} (min ${minPerDevice * DEVICES})`,
      ((r.cpuMs / r.points) * 1000).toFixed(2),
      `${rtuSecondsAt9600(perCycle, registersPerDevice * DEVICES).toFixed(1)} s`,
    ];
  };
  const head = ['gateway', 'points/s', 'registers/s', 'requests per poll cycle', 'CPU ms / 1,000 points', 'one cycle at 9600 baud RTU'];
  const rows = runs.map(row);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  const cpuRatio = (anchor.cpuMs / anchor.points) / (ours.cpuMs / ours.points);
  const reqRatio = (anchor.requests / anchor.points) / (ours.requests / ours.points);
  process.stdout.write(
    [
      `modbus polling: ${DEVICES} devices × ${POINTS} points (${registersPerDevice} registers each) every ${INTERVAL_MS / 1000} s, ${SECONDS} s measured, one Modbus TCP endpoint on loopback (modbus-serial ServerTCP in a child process), node ${process.version}`,
      line(head),
      `|${widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`,
      ...rows.map(line),
      `ratio (anchor ÷ driver): ${reqRatio.toFixed(1)}× the requests per point, ${cpuRatio.toFixed(1)}× the CPU per point`,
      '(9600-baud column: the same requests and registers as RTU frames on one RS-485 line, computed from frame sizes, not measured; over 1 s means a 1 s poll interval cannot be kept)',
      '',
    ].join('\n'),
  );
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
