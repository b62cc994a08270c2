import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { SYSTEM_PYTHON, freePort } from './services.js';
import { SocatPtyPair } from './socat.js';

const SCRIPT = fileURLToPath(new URL('../fixtures/modbus_server.py', import.meta.url));

export interface ModbusRequestSeen {
  unit: number;
  fc: number;
  address: number;
  count: number;
  /** Present when the unit was muted and left the request unanswered. */
  muted?: true;
}

export type PeerTable = 'holding' | 'input' | 'coil' | 'discrete';

export interface PymodbusOptions {
  units?: number[];
  /** Initial values, `[unit@]table:address=value,…` (no unit: every unit). */
  init?: string;
  /** Serve RTU on this serial device (a pty) instead of TCP on 127.0.0.1. */
  serial?: { path: string; baudRate?: number; parity?: 'none' | 'even' | 'odd'; dataBits?: number; stopBits?: number };
  /** On TCP: `rtu` frames requests as RTU (unit, PDU, CRC) instead of Modbus TCP's MBAP header. */
  framer?: 'socket' | 'rtu';
}

/**
 * A pymodbus slave (a real, third-party Modbus stack) — TCP on 127.0.0.1, RTU framing over TCP, or RTU
 * on a serial device — stopped with stop(). It can be started again after a stop, on the same port — a
 * device that reboots or a cable pulled and plugged back — with its registers back at `init`. The
 * test steers it over stdin: mute a unit, make it answer exceptions, set values.
 */
export class PymodbusServer {
  /** Every request a unit received, in order (also those it left unanswered). */
  readonly requests: ModbusRequestSeen[] = [];
  private proc?: ChildProcess;
  private pending: Array<{ line: string; resolve: () => void; reject: (err: Error) => void }> = [];
  port = 0;

  constructor(private readonly opts: PymodbusOptions = {}) {}

  async start(): Promise<this> {
    const args = [SCRIPT];
    const serial = this.opts.serial;
    if (serial) {
      const parity = { none: 'N', even: 'E', odd: 'O' }[serial.parity ?? 'none'];
      args.push('--serial', serial.path, '--baudrate', String(serial.baudRate ?? 9600), '--parity', parity);
      args.push('--bytesize', String(serial.dataBits ?? 8), '--stopbits', String(serial.stopBits ?? 1));
    } else {
      if (this.port === 0) this.port = await freePort();
      args.push('--port', String(this.port), '--framer', this.opts.framer ?? 'socket');
    }
    for (const u of this.opts.units ?? [1]) args.push('--unit', String(u));
    if (this.opts.init) args.push('--init', this.opts.init);
    // stdin is a pipe: the slave takes commands on it and exits when it closes, so it dies with us.
    const proc = spawn(SYSTEM_PYTHON, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    this.proc = proc;
    let stderr = '';
    proc.stderr!.on('data', (chunk: Buffer) => void (stderr = (stderr + chunk.toString()).slice(-2000)));
    proc.stdin!.on('error', () => undefined); // EPIPE when it already exited; the exit handler reports it
    proc.once('exit', () => {
      for (const p of this.pending.splice(0)) p.reject(new Error(`pymodbus exited before "${p.line}" was done`));
    });
    await new Promise<void>((resolve, reject) => {
      let buf = '';
      const timer = setTimeout(() => reject(new Error('pymodbus server did not start in 15 s')), 15_000);
      const onExit = (code: number | null) => {
        clearTimeout(timer);
        reject(new Error(`pymodbus server exited with ${code}: ${stderr}`));
      };
      proc.once('exit', onExit);
      proc.stdout!.on('data', (chunk: Buffer) => {
        buf += chunk.toString();
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl).trim();
          buf = buf.slice(nl + 1);
          if (line.startsWith('READY')) {
            clearTimeout(timer);
            proc.off('exit', onExit);
            resolve();
          } else {
            this.onLine(line);
          }
        }
      });
    });
    return this;
  }

  async stop(): Promise<void> {
    const proc = this.proc;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      proc.once('exit', () => resolve());
      proc.kill('SIGTERM');
      setTimeout(() => proc.kill('SIGKILL'), 3000).unref();
    });
  }

  /** The unit stops answering (requests still reach it and are logged, as `muted`). */
  mute(unit: number): Promise<void> {
    return this.command(`mute ${unit}`);
  }

  unmute(unit: number): Promise<void> {
    return this.command(`unmute ${unit}`);
  }

  /** Every request to `unit` gets this exception code back (0: answer normally again). */
  answerWithException(unit: number, code: number): Promise<void> {
    return this.command(`exception ${unit} ${code}`);
  }

  set(unit: number, table: PeerTable, address: number, values: readonly number[]): Promise<void> {
    return this.command(`set ${unit} ${table} ${address} ${values.join(',')}`);
  }

  /** A typed value, encoded by pymodbus (not by our codec) in the given byte order. */
  put(unit: number, table: 'holding' | 'input', address: number, type: string, order: string, value: number | string): Promise<void> {
    return this.command(`put ${unit} ${table} ${address} ${type} ${order} ${value}`);
  }

  /** Resolves once every request the slave has handled so far is in `requests`. */
  sync(): Promise<void> {
    return this.command('sync');
  }

  /** Requests `unit` received, optionally of one function code. */
  seen(unit: number, fc?: number): ModbusRequestSeen[] {
    return this.requests.filter((r) => r.unit === unit && (fc === undefined || r.fc === fc));
  }

  private command(line: string): Promise<void> {
    const proc = this.proc;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return Promise.reject(new Error('pymodbus is not running'));
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ line, resolve, reject });
      proc.stdin!.write(`${line}\n`);
    });
  }

  private onLine(line: string): void {
    if (line.startsWith('REQ ')) {
      const [, unit, fc, address, count, flag] = line.split(' ');
      const seen: ModbusRequestSeen = { unit: Number(unit), fc: Number(fc), address: Number(address), count: Number(count) };
      if (flag === 'muted') seen.muted = true;
      this.requests.push(seen);
    } else if (line.startsWith('OK ') || line.startsWith('ERR ')) {
      // The slave handles commands in order, so the oldest pending one is the one answered.
      const p = this.pending.shift();
      if (!p) return;
      if (line.startsWith('OK ')) p.resolve();
      else p.reject(new Error(`pymodbus: ${line}`));
    }
  }
}

/** A serial line with pymodbus slaves on one end (`server`) and `path` for the master to open. */
export interface RtuLine {
  server: PymodbusServer;
  pty: SocatPtyPair;
  /** The master's end of the line. */
  path: string;
  /** Stops the slaves and the line. */
  stop(): Promise<void>;
}

/** An RS-485 line in a box: a socat pty pair with pymodbus serving `opts.units` on one end. */
export async function startRtuLine(opts: Omit<PymodbusOptions, 'serial' | 'framer'> = {}): Promise<RtuLine> {
  const pty = await new SocatPtyPair().start();
  try {
    const server = await new PymodbusServer({ ...opts, serial: { path: pty.a } }).start();
    return { server, pty, path: pty.b, stop: async () => { await server.stop(); await pty.dispose(); } };
  } catch (err) {
    await pty.dispose();
    throw err;
  }
}
