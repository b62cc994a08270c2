import type { ErrorDetail } from '../../../contracts/errors.js';
import { schemaErrors } from '../../../contracts/validate.js';
import { durationMs } from '../../../contracts/duration.js';
import type { ConnectionConfig, Driver, DriverDeps, Session } from '../driver.js';
import { RefPool } from '../pool.js';
import { ModbusTcpConnection, resolveModbusTcp } from './connection.js';
import { ModbusLink, type LinkOptions } from './link.js';
import { ModbusSession } from './session.js';
import { TcpTransport } from './tcp.js';

/** Modbus TCP: devices behind one host:port (a gateway, or one device with several unit ids) share a link. */
export class ModbusTcpDriver implements Driver {
  readonly protocol = 'modbus-tcp';
  readonly profileProtocol = 'modbus' as const;
  private readonly links = new RefPool<ModbusLink>((link) => link.close());

  constructor(
    private readonly deps: DriverDeps,
    private readonly linkOptions: Omit<LinkOptions, 'deps'> = {},
  ) {}

  validateConnection(conn: ConnectionConfig): ErrorDetail[] {
    const details = schemaErrors(ModbusTcpConnection, conn);
    if (details.length === 0 && conn.timeout !== undefined && durationMs(conn.timeout as string | number) <= 0) {
      details.push({ path: '/timeout', message: 'must be longer than 0' });
    }
    return details;
  }

  open(conn: ConnectionConfig): Session {
    const c = resolveModbusTcp(conn);
    const transport = new TcpTransport(c.host, c.port);
    const lease = this.links.acquire(transport.endpoint, () => new ModbusLink(transport, { ...this.linkOptions, deps: this.deps }));
    return new ModbusSession(lease, { unitId: c.unitId, timeoutMs: c.timeoutMs, retries: c.retries, maxGap: c.maxGap });
  }

  /** Links open right now (one per endpoint), for status and tests. */
  get openLinks(): number {
    return this.links.size;
  }
}
