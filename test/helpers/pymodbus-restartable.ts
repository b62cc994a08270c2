import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { SYSTEM_PYTHON, freePort } from './services.js';
import type { ModbusRequestSeen } from './pymodbus.js';

const SCRIPT = fileURLToPath(new URL('../fixtures/modbus_server.py', import.meta.url));

// pymodbus 3.0 binds without SO_REUSEADDR, so after it is killed with a client connected, the port sits
// in TIME_WAIT and a restart on it fails. Run the same fixture with address reuse switched on.
const REUSE_THEN_RUN = `
import runpy, sys
import pymodbus.server.async_io as aio
_init = aio.ModbusTcpServer.__init__
def _reuse(self, *args, **kw):
    kw['allow_reuse_address'] = True
    _init(self, *args, **kw)
aio.ModbusTcpServer.__init__ = _reuse
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name='__main__')
`;

/**
 * A pymodbus TCP slave that can be stopped and started again on the same port — a device that reboots
 * or a cable pulled and plugged back — so a client's reconnect can be tested. (PymodbusServer picks a
 * new port on every start.) Registers start from `init` again after each restart. Same fixture script
 * (test/fixtures/modbus_server.py), same `requests` log.
 */
export class RestartablePymodbus {
  readonly requests: ModbusRequestSeen[] = [];
  port = 0;
  private proc?: ChildProcess;

  constructor(private readonly opts: { units?: number[]; init?: string } = {}) {}

  async start(): Promise<this> {
    if (this.port === 0) this.port = await freePort();
    const args = ['-c', REUSE_THEN_RUN, SCRIPT, '--port', String(this.port)];
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
