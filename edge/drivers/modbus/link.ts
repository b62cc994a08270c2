// One connection to one Modbus bus (a TCP endpoint, a serial line, a serial server's socket), shared
// by every device on it. Transactions take turns, writes ahead of polls; the link connects on demand
// and, after losing the connection or failing to connect, waits a backed-off while before trying again
// — polls in between fail fast with the last failure's reason instead of piling up behind connect
// attempts. Slaves on the bus that stop answering are quarantined (quarantine.ts).

import { fullJitter, type BackoffPolicy } from '../../backoff.js';
import type { TimerHandle } from '../../scheduler.js';
import type { DriverDeps } from '../driver.js';
import { TurnQueue, type TurnPriority } from '../queue.js';
import { ModbusFailure, toModbusFailure } from './exceptions.js';
import { Quarantine } from './quarantine.js';
import { ModbusClientClass, type ModbusClient, type ModbusTransport } from './transport.js';

export const DEFAULT_RECONNECT: BackoffPolicy = { baseMs: 500, capMs: 30_000 };
/** Connecting gets at least this long even when transactions time out sooner: TCP over 4G is slow to start. */
const MIN_CONNECT_TIMEOUT_MS = 3000;

export interface LinkOptions {
  deps: DriverDeps;
  reconnect?: BackoffPolicy;
  /** Backoff between probes of a slave that stopped answering (default DEFAULT_QUARANTINE). */
  quarantine?: BackoffPolicy;
}

export interface TransactOptions {
  timeoutMs: number;
  /** 'high' for writes: ahead of the polls waiting, never interrupting the running transaction. */
  priority?: TurnPriority;
  /** Quiet time the line keeps after this transaction, inside its turn (slow RS-485 slaves need it). */
  gapMs?: number;
}

export class ModbusLink {
  /** Slaves on this bus that stopped answering; shared by every session on it. */
  readonly quarantine: Quarantine;
  private readonly queue = new TurnQueue();
  private client?: ModbusClient;
  /** Rejects the running transaction when the connection drops under it. */
  private lost?: { promise: Promise<never>; reject: (f: ModbusFailure) => void };
  /** Abandons a connect attempt in progress (close() while connecting). */
  private abortConnect?: () => void;
  /** Ends the quiet gap in progress (close() while the line rests). */
  private endQuiet?: () => void;
  private retryTimer?: TimerHandle;
  private lastFailure?: ModbusFailure;
  private failures = 0;
  private closed = false;

  constructor(
    readonly transport: ModbusTransport,
    private readonly opts: LinkOptions,
  ) {
    this.quarantine = new Quarantine(opts.deps.clock, opts.deps.random, opts.quarantine);
  }

  /** Session.busId of every device on this link. */
  get busId(): string {
    return `bus:${this.transport.endpoint}`;
  }

  get connected(): boolean {
    return this.client !== undefined;
  }

  /** Runs one transaction for `unitId` when its turn comes; failures are ModbusFailures. */
  transact<T>(unitId: number, opts: TransactOptions, fn: (client: ModbusClient) => Promise<T>): Promise<T> {
    return this.queue.run(async () => {
      if (this.closed) throw new ModbusFailure('GS_ERR_DRIVER_CLOSED', 'closed', true);
      const client = await this.ensureConnected(opts.timeoutMs);
      client.setID(unitId);
      client.setTimeout(opts.timeoutMs);
      try {
        return await Promise.race([fn(client), this.lost!.promise]);
      } catch (err) {
        const failure = toModbusFailure(err);
        if (this.client === client && !client.isOpen) {
          this.opts.deps.logger.warn({ endpoint: this.transport.endpoint }, 'modbus connection lost');
          await this.drop(new ModbusFailure('GS_ERR_DEVICE_UNREACHABLE', 'connection_lost', true), false);
        }
        throw failure;
      } finally {
        if (opts.gapMs && !this.closed) await this.quiet(opts.gapMs);
      }
    }, opts.priority);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.queue.cancelWaiting(new ModbusFailure('GS_ERR_DRIVER_CLOSED', 'closed', true));
    if (this.retryTimer !== undefined) this.opts.deps.scheduler.clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.abortConnect?.();
    this.endQuiet?.();
    await this.drop(new ModbusFailure('GS_ERR_DRIVER_CLOSED', 'closed', true), false);
    await this.queue.idle();
  }

  private async ensureConnected(timeoutMs: number): Promise<ModbusClient> {
    if (this.client?.isOpen) return this.client;
    // A reset connection (RST) closes the socket without modbus-serial emitting 'close': notice it here
    // and reconnect at once — the device may simply have dropped an idle connection.
    if (this.client) await this.drop(new ModbusFailure('GS_ERR_DEVICE_UNREACHABLE', 'connection_lost', true), false);
    if (this.retryTimer !== undefined && this.lastFailure) throw this.lastFailure;
    const client = new ModbusClientClass();
    // modbus-serial re-emits port errors; without a listener an EventEmitter 'error' would crash the edge.
    client.on('error', () => undefined);
    try {
      await this.connectWithin(client, Math.max(timeoutMs, MIN_CONNECT_TIMEOUT_MS));
    } catch (err) {
      await this.transport.release(client);
      const failure = toModbusFailure(err);
      this.backOff(failure);
      throw failure;
    }
    if (this.closed) {
      await this.transport.release(client);
      throw new ModbusFailure('GS_ERR_DRIVER_CLOSED', 'closed', true);
    }
    this.failures = 0;
    // Silence before a reconnect may have been the link's, not the slaves': let each prove itself now.
    this.quarantine.probeAllNow();
    this.lastFailure = undefined;
    let reject!: (f: ModbusFailure) => void;
    const promise = new Promise<never>((_, rej) => (reject = rej));
    promise.catch(() => undefined); // observed by the running transaction, if there is one
    this.lost = { promise, reject };
    this.client = client;
    client.on('close', () => {
      if (this.client !== client) return;
      this.opts.deps.logger.warn({ endpoint: this.transport.endpoint }, 'modbus connection lost');
      void this.drop(new ModbusFailure('GS_ERR_DEVICE_UNREACHABLE', 'connection_lost', true), true);
    });
    this.opts.deps.logger.info({ endpoint: this.transport.endpoint }, 'modbus connected');
    return client;
  }

  private connectWithin(client: ModbusClient, ms: number): Promise<void> {
    const { scheduler } = this.opts.deps;
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const settle = (err?: unknown) => {
        if (settled) return;
        settled = true;
        scheduler.clearTimeout(timer);
        this.abortConnect = undefined;
        if (err === undefined) resolve();
        else reject(err);
      };
      const timer = scheduler.setTimeout(
        () => settle(new ModbusFailure('GS_ERR_DEVICE_UNREACHABLE', 'connect_timeout', true, `no connection to ${this.transport.endpoint} within ${ms} ms`)),
        ms,
      );
      this.abortConnect = () => settle(new ModbusFailure('GS_ERR_DRIVER_CLOSED', 'closed', true));
      this.transport.connect(client).then(
        () => settle(),
        (err: unknown) => settle(err ?? new Error('connect failed')),
      );
    });
  }

  /** Forgets the client; the transaction running on it (if any) fails with `failure`. */
  private async drop(failure: ModbusFailure, reconnect: boolean): Promise<void> {
    const client = this.client;
    this.client = undefined;
    this.lost?.reject(failure);
    this.lost = undefined;
    if (reconnect && !this.closed) this.backOff(failure);
    if (client) await this.transport.release(client);
  }

  /** Holds the turn for `ms`; close() cuts it short. */
  private quiet(ms: number): Promise<void> {
    const { scheduler } = this.opts.deps;
    return new Promise<void>((resolve) => {
      const timer = scheduler.setTimeout(() => done(), ms);
      const done = () => {
        scheduler.clearTimeout(timer);
        this.endQuiet = undefined;
        resolve();
      };
      this.endQuiet = done;
    });
  }

  private backOff(failure: ModbusFailure): void {
    this.lastFailure = failure;
    if (this.closed) return;
    const { scheduler, random } = this.opts.deps;
    const delay = fullJitter(this.failures, this.opts.reconnect ?? DEFAULT_RECONNECT, random);
    this.failures++;
    if (this.retryTimer !== undefined) scheduler.clearTimeout(this.retryTimer);
    this.retryTimer = scheduler.setTimeout(() => {
      this.retryTimer = undefined;
    }, delay);
  }
}
