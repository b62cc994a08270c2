import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { SYSTEM_PYTHON, freePort } from './services.js';

const SCRIPT = fileURLToPath(new URL('../fixtures/modbus_server.py', import.meta.url));

export interface ModbusRequestSeen {
  unit: number;
  fc: number;
  address: number;
  count: number;
}

/**
 * A pymodbus TCP slave on 127.0.0.1 (a real, third-party Modbus stack), stopped with stop(). It can be
 * started again after a stop, on the same port — a device that reboots or a cable pulled and plugged
 * back — with its registers back at `init`.
 */
export class PymodbusServer {
  readonly requests: ModbusRequestSeen[] = [];
  private proc?: ChildProcess;
  port = 0;

  constructor(private readonly opts: { units?: number[]; init?: string } = {}) {}

  async start(): Promise<this> {
    if (this.port === 0) this.port = await freePort();
    const args = [SCRIPT, '--port', String(this.port)];
    for (const u of this.opts.units ?? [1]) args.push('--unit', String(u));
    if (this.opts.init) args.push('--init', this.opts.init);
    const proc = spawn(SYSTEM_PYTHON, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc = proc;
    await new Promise<void>((resolve, reject) => {
      let buf = '';
      const timer = setTimeout(() => reject(new Error('pymodbus server did not start in 15 s')), 15_000);
      const onExit = (code: number | null) => {
        clearTimeout(timer);
        reject(new Error(`pymodbus server exited with ${code}`));
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
          } else if (line.startsWith('REQ ')) {
            const [, unit, fc, address, count] = line.split(' ').map(Number);
            this.requests.push({ unit: unit!, fc: fc!, address: address!, count: count! });
          }
        }
      });
      proc.stderr!.resume();
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
}
