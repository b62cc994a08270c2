import ModbusRTU from 'modbus-serial';
import { freePort } from './free-port.js';

/** Holding registers of one simulated Modbus TCP slave, served on 127.0.0.1 by modbus-serial's ServerTCP. */
export class SimulatedModbusSlave {
  readonly holding = new Map<number, number>();
  private server?: InstanceType<typeof ModbusRTU.ServerTCP>;
  port = 0;

  constructor(private readonly opts: { host?: string; port?: number; unitId?: number } = {}) {}

  async start(): Promise<this> {
    const unit = this.opts.unitId ?? 1;
    // ServerTCP answers only its own unit id; a request to another stays unanswered, like a dead slave.
    const read = (addr: number): number => this.holding.get(addr) ?? 0;
    this.port = this.opts.port ?? (await freePort());
    const server = new ModbusRTU.ServerTCP(
      {
        getHoldingRegister: read,
        getInputRegister: read,
        setRegister: (addr: number, value: number) => void this.holding.set(addr, value),
      },
      { host: this.opts.host ?? '127.0.0.1', port: this.port, unitID: unit },
    );
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('initialized', () => resolve());
      server.once('serverError', reject);
    });
    return this;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    for (const sock of server.socks.keys()) sock.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
