import type { ErrorDetail } from '../../../contracts/errors.js';
import type { BackoffPolicy } from '../../backoff.js';
import type { ConnectionConfig, Driver, DriverDeps, Session } from '../driver.js';
import { RefPool } from '../pool.js';
import { busIdOf, linkKey, opcuaConnectionErrors, resolveOpcua } from './connection.js';
import { OpcuaLink } from './link.js';
import { OpcuaSession } from './session.js';

export interface OpcuaDriverOptions {
  /** Client certificate store for connections that name none (default <tmpdir>/gridsense-opcua-pki). */
  pkiFolder?: string;
  reconnect?: BackoffPolicy;
}

/**
 * OPC UA: devices on one server with one identity (a pumping station's PLC serving several stations
 * under different node prefixes) share one client session and one subscription.
 */
export class OpcuaDriver implements Driver {
  readonly protocol = 'opcua';
  readonly profileProtocol = 'opcua' as const;
  private readonly links = new RefPool<OpcuaLink>((link) => link.close());

  constructor(
    private readonly deps: DriverDeps,
    private readonly options: OpcuaDriverOptions = {},
  ) {}

  validateConnection(conn: ConnectionConfig): ErrorDetail[] {
    return opcuaConnectionErrors(conn);
  }

  open(conn: ConnectionConfig): Session {
    const c = resolveOpcua(conn, this.options.pkiFolder);
    const lease = this.links.acquire(linkKey(c), () => new OpcuaLink(c, { deps: this.deps, ...(this.options.reconnect ? { reconnect: this.options.reconnect } : {}) }));
    lease.value.wantPublishingInterval(c.publishingIntervalMs);
    return new OpcuaSession(lease, {
      ...(c.nodePrefix !== undefined ? { nodePrefix: c.nodePrefix } : {}),
      timeoutMs: c.timeoutMs,
      samplingIntervalMs: c.samplingIntervalMs,
      busId: busIdOf(c),
    });
  }

  /** Client sessions open right now (one per endpoint and identity), for status and tests. */
  get openLinks(): number {
    return this.links.size;
  }
}
