// The three Modbus drivers: TCP, RTU on a serial line, RTU framing over TCP. They differ only in how
// the shared link reaches its bus (the transport) and in their connection blocks; sessions, planning,
// quarantine and the turn queue are one implementation.
import type { TSchema } from 'typebox';
import type { ErrorDetail } from '../../../contracts/errors.js';
import type { ConnectionConfig, Driver, DriverDeps, Session } from '../driver.js';
import { RefPool } from '../pool.js';
import {
  ModbusRtuConnection,
  ModbusRtuTcpConnection,
  ModbusTcpConnection,
  resolveModbusRtu,
  resolveModbusRtuTcp,
  resolveModbusTcp,
  type ResolvedSession,
} from './connection.js';
import { ModbusLink, type LinkOptions } from './link.js';
import { RtuOverTcpTransport } from './rtu-tcp.js';
import { describeSerial, SerialRtuTransport } from './serial.js';
import { ModbusSession } from './session.js';
import { TcpTransport } from './tcp.js';
import type { ModbusTransport } from './transport.js';
import { connectionProblems, RTU_HINTS, RTU_TCP_HINTS, TCP_HINTS, timeoutFitsLine, type FieldHints } from './validate-connection.js';

/** Link tuning for tests and benchmarks: reconnect and quarantine backoff. */
export type ModbusLinkTuning = Omit<LinkOptions, 'deps'>;

abstract class ModbusDriverBase implements Driver {
  abstract readonly protocol: string;
  readonly profileProtocol = 'modbus' as const;
  protected readonly links = new RefPool<ModbusLink>((link) => link.close());

  constructor(
    protected readonly deps: DriverDeps,
    private readonly tuning: ModbusLinkTuning = {},
  ) {}

  protected abstract readonly schema: TSchema;
  protected abstract readonly hints: FieldHints;

  validateConnection(conn: ConnectionConfig): ErrorDetail[] {
    const problems = connectionProblems(this.schema, conn, this.hints);
    return problems.length > 0 ? problems : this.checkResolved(conn);
  }

  abstract open(conn: ConnectionConfig): Session;

  /** Links open right now (one per bus), for status and tests. */
  get openLinks(): number {
    return this.links.size;
  }

  /** Checks that need the resolved connection (defaults applied). */
  protected checkResolved(_conn: ConnectionConfig): ErrorDetail[] {
    return [];
  }

  /** A session on the bus `transport` reaches; every device on that bus shares one link. */
  protected session(transport: ModbusTransport, s: ResolvedSession, onShare?: (link: ModbusLink) => void): Session {
    let created = false;
    const lease = this.links.acquire(transport.endpoint, () => {
      created = true;
      return new ModbusLink(transport, { ...this.tuning, deps: this.deps });
    });
    if (!created) onShare?.(lease.value);
    return new ModbusSession(lease, { unitId: s.unitId, timeoutMs: s.timeoutMs, retries: s.retries, maxGap: s.maxGap, gapMs: s.gapMs }, this.deps.logger);
  }
}

/** Modbus TCP: devices behind one host:port (a gateway, or one device with several unit ids) share a link. */
export class ModbusTcpDriver extends ModbusDriverBase {
  readonly protocol = 'modbus-tcp';
  protected readonly schema = ModbusTcpConnection;
  protected readonly hints = TCP_HINTS;

  open(conn: ConnectionConfig): Session {
    const c = resolveModbusTcp(conn);
    return this.session(new TcpTransport(c.host, c.port), c);
  }
}

/** Modbus RTU on a local RS-485 port: every slave on the line shares it and takes turns. */
export class ModbusRtuDriver extends ModbusDriverBase {
  readonly protocol = 'modbus-rtu';
  protected readonly schema = ModbusRtuConnection;
  protected readonly hints = RTU_HINTS;

  protected override checkResolved(conn: ConnectionConfig): ErrorDetail[] {
    const c = resolveModbusRtu(conn);
    return timeoutFitsLine(c.timeoutMs, conn.timeout === undefined, c.serial.baudRate, c.serial.parity, c.serial.stopBits);
  }

  open(conn: ConnectionConfig): Session {
    const c = resolveModbusRtu(conn);
    const transport = new SerialRtuTransport(c.path, c.serial);
    return this.session(transport, c, (link) => {
      // One line has one speed: the first device opened set it; a device asking for another would
      // only see garbage, so say so where a technician looks.
      const open = (link.transport as SerialRtuTransport).settings;
      if (describeSerial(open) !== describeSerial(c.serial)) {
        this.deps.logger.warn({ port: c.path, line: describeSerial(open), asked: describeSerial(c.serial), unitId: c.unitId }, 'modbus-rtu: devices on one serial port disagree on its settings; the line keeps the first');
      }
    });
  }
}

/** Modbus RTU framing over TCP to a serial device server: the slaves behind one host:port share a link. */
export class ModbusRtuTcpDriver extends ModbusDriverBase {
  readonly protocol = 'modbus-rtu-tcp';
  protected readonly schema = ModbusRtuTcpConnection;
  protected readonly hints = RTU_TCP_HINTS;

  open(conn: ConnectionConfig): Session {
    const c = resolveModbusRtuTcp(conn);
    return this.session(new RtuOverTcpTransport(c.host, c.port), c);
  }
}
