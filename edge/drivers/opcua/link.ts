// One OPC UA client per endpoint and identity, shared by every device on it: one secure channel, one
// session, one subscription whose monitored items are the subscribed points of all those devices.
//
// Reconnecting is ours, not node-opcua's: its built-in loop runs on its own timers, retries forever
// by default and repairs sessions and subscriptions out of our sight, where the edge needs the wait
// bounded, on the injected scheduler, and the devices told the moment the session goes. So a lost
// session (socket closed, subscription status Bad, or no publish response for too long) is thrown
// away whole; subscribed devices are told at once (unreachable), and after a backed-off wait a new
// client builds session, subscription and monitored items from scratch — which also covers a server
// that restarted and forgot them.
import { connect as tcpConnect } from 'node:net';
import type * as UA from 'node-opcua';
import { GsError } from '../../../contracts/errors.js';
import { fullJitter, type BackoffPolicy } from '../../backoff.js';
import { errFields } from '../../log.js';
import type { TimerHandle } from '../../scheduler.js';
import type { DriverDeps, RawPointValue, RawValue } from '../driver.js';
import { BuiltinType, decodeDataValue, encodeWriteValue, type WriteType } from './codec.js';
import type { ResolvedOpcua } from './connection.js';
import { isBadStatus, isSecurityFailure, isSessionGone, OpcuaFailure, statusReason, toOpcuaFailure } from './failure.js';

type Ua = typeof UA;
let loading: Promise<Ua> | undefined;

/** node-opcua takes over a second to import: the edge pays for it only once an OPC UA device connects. */
function loadNodeOpcua(): Promise<Ua> {
  // A CommonJS package: Node's ESM loader puts its exports on `default`, tsx spreads them as named ones.
  return (loading ??= import('node-opcua').then((m) => ((m as { default?: unknown }).default ?? m) as Ua));
}

export const DEFAULT_RECONNECT: BackoffPolicy = { baseMs: 500, capMs: 30_000 };
/** The handshake is several round trips plus RSA work, and the first one may generate our certificate. */
const MIN_CONNECT_TIMEOUT_MS = 10_000;
/** An idle subscription still answers every `KEEPALIVE_COUNT` publishing intervals: that is our heartbeat. */
const KEEPALIVE_COUNT = 10;
/** Part 4 wants the lifetime at least three keep-alives, so the server keeps the subscription through a short outage. */
const LIFETIME_COUNT = 60;
/** How long close() waits for the server to acknowledge CloseSession before letting go anyway. */
const CLOSE_GRACE_MS = 3000;

export interface LinkOptions {
  deps: DriverDeps;
  reconnect?: BackoffPolicy;
}

export interface MonitoredPoint {
  point: string;
  nodeId: string;
  samplingIntervalMs: number;
}

export interface ReadItem {
  point: string;
  nodeId: string;
}

interface Registration {
  readonly points: readonly MonitoredPoint[];
  readonly onValue: (value: RawPointValue) => void;
  /** Its monitored items on the current subscription, once created (one group per sampling interval). */
  groups: UA.ClientMonitoredItemGroup[];
  /** Set while the device has been told it is unreachable: a server that stays down is reported once. */
  downReason?: string;
}

interface Live {
  client: UA.OPCUAClient;
  session: UA.ClientSession;
  subscription: UA.ClientSubscription;
  certificates: UA.OPCUACertificateManager;
  watchdog?: TimerHandle;
}

interface Attempt {
  abandoned: boolean;
  client?: UA.OPCUAClient;
}

const closedFailure = () => new OpcuaFailure('GS_ERR_DRIVER_CLOSED', 'closed', true);

export class OpcuaLink {
  private live?: Live;
  private connecting?: Promise<Live>;
  private abortConnect?: (f: OpcuaFailure) => void;
  private retryTimer?: TimerHandle;
  private lastFailure?: OpcuaFailure;
  private failures = 0;
  private closed = false;
  private readonly regs = new Set<Registration>();
  /** Built-in type and rank of written nodes, read once per session. */
  private readonly writeTypes = new Map<string, Promise<WriteType>>();
  /** Teardown still running (old clients closing, groups being deleted); close() waits for it. */
  private readonly pending = new Set<Promise<unknown>>();
  private publishingIntervalMs: number;

  constructor(
    private readonly cfg: ResolvedOpcua,
    private readonly opts: LinkOptions,
  ) {
    this.publishingIntervalMs = cfg.publishingIntervalMs;
  }

  get connected(): boolean {
    return this.live !== undefined;
  }

  /** The shared subscription publishes as often as its most demanding device asks. */
  wantPublishingInterval(ms: number): void {
    if (ms >= this.publishingIntervalMs) return;
    this.publishingIntervalMs = ms;
    const live = this.live;
    if (live) {
      this.track(
        live.subscription.modify({ requestedPublishingInterval: ms }).then(
          () => this.armWatchdog(live),
          (err: unknown) => this.log().warn({ endpoint: this.cfg.endpoint, ...errFields(err) }, 'opc ua: cannot change the publishing interval'),
        ),
      );
    }
  }

  /** Monitors the points on the shared subscription; values (and losses) arrive through `onValue`. */
  subscribe(points: readonly MonitoredPoint[], onValue: (value: RawPointValue) => void): () => void {
    const reg: Registration = { points, onValue, groups: [] };
    this.regs.add(reg);
    if (this.live) this.track(this.monitor(this.live, reg));
    else if (this.retryTimer !== undefined && this.lastFailure) {
      const failure = this.lastFailure;
      queueMicrotask(() => this.regs.has(reg) && this.tellDown(reg, failure));
    } else this.connectSoon();
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.unsubscribe(reg);
    };
  }

  /** One Read service call for the points' values; never throws for a server or link fault. */
  async read(items: readonly ReadItem[], timeoutMs: number): Promise<RawPointValue[]> {
    if (items.length === 0) return [];
    let live: Live;
    try {
      live = await this.ensureLive();
    } catch (err) {
      return downAll(items, toOpcuaFailure(err));
    }
    const ua = await loadNodeOpcua();
    try {
      const request = items.map((i) => ({ nodeId: i.nodeId, attributeId: ua.AttributeIds.Value }));
      const values = await this.within(live.session.read(request), timeoutMs, () => this.timeout('read', timeoutMs));
      return items.map((i, k) => decodeDataValue(i.point, values[k] ?? {}));
    } catch (err) {
      const f = toOpcuaFailure(err);
      if (isSessionGone(f)) this.lose(live, f);
      // A service fault (BadTooManyOperations…) is an answer; a timeout or a dead session is not.
      const answered = f.reason.startsWith('opcua_bad_') && !isSessionGone(f);
      return items.map((i) => ({ point: i.point, ok: false, reason: f.reason, unreachable: !answered }));
    }
  }

  /** Writes one value as the node's own DataType; throws a GsError when it cannot or the server refuses. */
  async write(nodeId: string, where: string, value: RawValue, timeoutMs: number): Promise<void> {
    const live = await this.ensureLive();
    const ua = await loadNodeOpcua();
    try {
      const type = await this.within(this.writeTypeOf(live, nodeId), timeoutMs, () => this.timeout('read DataType', timeoutMs));
      const variant = encodeWriteValue(value, type, where);
      const status = await this.within(
        live.session.write({ nodeId, attributeId: ua.AttributeIds.Value, value: { value: variant } }),
        timeoutMs,
        () => this.timeout('write', timeoutMs),
      );
      if (isBadStatus(status.value)) {
        // The node may have been redefined on the server: look its type up again next time.
        if (status.name === 'BadTypeMismatch') this.writeTypes.delete(nodeId);
        throw new OpcuaFailure('GS_ERR_OPCUA_STATUS', statusReason(status.name), false, `${where}: the server refused the write (${status.name})`);
      }
    } catch (err) {
      if (err instanceof GsError && !(err instanceof OpcuaFailure)) throw err;
      const f = toOpcuaFailure(err);
      if (isSessionGone(f)) this.lose(live, f);
      throw f;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const { scheduler } = this.opts.deps;
    if (this.retryTimer !== undefined) scheduler.clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.regs.clear();
    this.abortConnect?.(closedFailure());
    await this.connecting?.catch(() => undefined);
    const live = this.live;
    this.live = undefined;
    if (live) this.track(this.dispose(live));
    await this.settle();
  }

  private log() {
    return this.opts.deps.logger;
  }

  private connectSoon(): void {
    this.ensureLive().catch(() => undefined); // connect() has already told the devices and backed off
  }

  private ensureLive(): Promise<Live> {
    if (this.closed) return Promise.reject(closedFailure());
    if (this.live) return Promise.resolve(this.live);
    if (this.connecting) return this.connecting;
    // Between attempts, fail fast with the last reason instead of queueing behind a dead server.
    if (this.retryTimer !== undefined && this.lastFailure) return Promise.reject(this.lastFailure);
    const p = this.connect();
    this.connecting = p;
    const clear = () => {
      if (this.connecting === p) this.connecting = undefined;
    };
    p.then(clear, clear);
    return p;
  }

  private async connect(): Promise<Live> {
    const attempt: Attempt = { abandoned: false };
    const work = this.establish(attempt);
    const limit = Math.max(this.cfg.timeoutMs, MIN_CONNECT_TIMEOUT_MS);
    let live: Live;
    try {
      live = await this.within(
        work,
        limit,
        () => new OpcuaFailure('GS_ERR_OPCUA_TIMEOUT', 'connect_timeout', true, `no OPC UA session with ${this.cfg.endpoint} within ${limit} ms`),
        true,
      );
    } catch (err) {
      attempt.abandoned = true;
      // A handshake that completes after we gave up is torn down when it does.
      this.track(work.then((l) => this.dispose(l), () => undefined));
      if (attempt.client) this.track(attempt.client.disconnect().catch(() => undefined));
      const failure = toOpcuaFailure(err);
      if (!this.closed) this.failed(failure);
      throw failure;
    }
    if (this.closed) {
      await this.dispose(live);
      throw closedFailure();
    }
    this.failures = 0;
    this.lastFailure = undefined;
    this.live = live;
    this.watch(live);
    this.log().info(
      { endpoint: this.cfg.endpoint, securityMode: this.cfg.securityMode, user: this.cfg.username ?? '(anonymous)', publishingIntervalMs: live.subscription.publishingInterval },
      'opc ua session open',
    );
    for (const reg of this.regs) this.track(this.monitor(live, reg));
    return live;
  }

  private async establish(attempt: Attempt): Promise<Live> {
    const ua = await loadNodeOpcua();
    await this.preflight();
    if (attempt.abandoned) throw closedFailure();
    const certificates = new ua.OPCUACertificateManager({
      rootFolder: this.cfg.pkiFolder,
      // Trust on first contact only when the device's connection says so; otherwise the server's
      // certificate lands in <pkiFolder>/rejected and a technician moves it to trusted/certs.
      automaticallyAcceptUnknownCertificate: this.cfg.trustServerCertificate,
      disableFileWatchers: true,
    });
    const client = ua.OPCUAClient.create({
      applicationName: 'gridsense-edge',
      clientName: `gridsense ${this.cfg.endpoint}`,
      securityMode: ua.MessageSecurityMode[this.cfg.securityMode],
      securityPolicy: ua.SecurityPolicy[this.cfg.securityPolicy],
      endpointMustExist: false,
      // No retries inside node-opcua: a failed connect fails now, a lost one emits connection_lost and
      // stays down, and this link decides when to try again.
      connectionStrategy: { maxRetry: 0, initialDelay: 1000, maxDelay: 1000 },
      clientCertificateManager: certificates,
      defaultTransactionTimeout: this.cfg.timeoutMs,
      requestedSessionTimeout: 60_000,
    });
    attempt.client = client;
    try {
      await client.connect(this.cfg.endpoint);
      if (attempt.abandoned) throw closedFailure();
      const identity: UA.UserIdentityInfo =
        this.cfg.username === undefined
          ? { type: ua.UserTokenType.Anonymous }
          : { type: ua.UserTokenType.UserName, userName: this.cfg.username, password: this.cfg.password ?? '' };
      const session = await client.createSession(identity);
      if (attempt.abandoned) throw closedFailure();
      const subscription = await session.createSubscription2({
        requestedPublishingInterval: this.publishingIntervalMs,
        requestedMaxKeepAliveCount: KEEPALIVE_COUNT,
        requestedLifetimeCount: LIFETIME_COUNT,
        maxNotificationsPerPublish: 0,
        publishingEnabled: true,
        priority: 0,
      });
      return { client, session, subscription, certificates };
    } catch (err) {
      await client.disconnect().catch(() => undefined);
      await certificates.dispose().catch(() => undefined);
      throw err;
    }
  }

  /**
   * A plain TCP connect first: node-opcua reports a refused or unresolvable server as "premature
   * disconnection" (and logs a page about it on every retry), where a technician needs to read
   * connection_refused or host_not_found. It also bounds the wait on a host that drops packets.
   */
  private preflight(): Promise<void> {
    const { host, port } = this.cfg;
    const { scheduler } = this.opts.deps;
    const ms = Math.max(this.cfg.timeoutMs, 3000);
    return new Promise<void>((resolve, reject) => {
      const socket = tcpConnect({ host, port });
      const done = (failure?: OpcuaFailure) => {
        scheduler.clearTimeout(timer);
        socket.removeAllListeners();
        socket.on('error', () => undefined);
        socket.destroy();
        if (failure) reject(failure);
        else resolve();
      };
      const timer = scheduler.setTimeout(
        () => done(new OpcuaFailure('GS_ERR_DEVICE_UNREACHABLE', 'connect_timeout', true, `no TCP connection to ${host}:${port} within ${ms} ms`)),
        ms,
      );
      socket.once('connect', () => done());
      socket.once('error', (err) => done(toOpcuaFailure(err)));
    });
  }

  private watch(live: Live): void {
    const { endpoint } = this.cfg;
    live.client.on('connection_lost', () => this.lose(live, new OpcuaFailure('GS_ERR_DEVICE_UNREACHABLE', 'connection_lost', true, `connection to ${endpoint} lost`)));
    live.session.on('session_closed', () => this.lose(live, new OpcuaFailure('GS_ERR_DEVICE_UNREACHABLE', 'connection_lost', true, `the session with ${endpoint} was closed`)));
    const sub = live.subscription;
    sub.on('status_changed', (status: UA.StatusCode) => {
      // e.g. BadTimeout: the server let the subscription expire (we were away longer than its lifetime).
      if (isBadStatus(status.value)) this.lose(live, new OpcuaFailure('GS_ERR_DEVICE_UNREACHABLE', statusReason(status.name), true, `subscription on ${endpoint}: ${status.name}`));
    });
    sub.on('terminated', () => this.lose(live, new OpcuaFailure('GS_ERR_DEVICE_UNREACHABLE', 'connection_lost', true, `subscription on ${endpoint} terminated`)));
    // An EventEmitter 'error' without a listener would take the whole edge down.
    sub.on('error', (err: Error) => this.lose(live, toOpcuaFailure(err)));
    sub.on('internal_error', (err: Error) => this.log().warn({ endpoint, ...errFields(err) }, 'opc ua subscription error'));
    const contact = () => this.armWatchdog(live);
    sub.on('keepalive', contact);
    sub.on('received_notifications', contact);
    this.armWatchdog(live);
  }

  /** A link whose server stopped answering without closing the socket is noticed by its silence. */
  private armWatchdog(live: Live): void {
    if (this.live !== live) return;
    const { scheduler } = this.opts.deps;
    if (live.watchdog !== undefined) scheduler.clearTimeout(live.watchdog);
    const sub = live.subscription;
    const silentMs = Math.max(1, sub.publishingInterval || this.publishingIntervalMs) * Math.max(1, sub.maxKeepAliveCount || KEEPALIVE_COUNT) * 2 + this.cfg.timeoutMs;
    live.watchdog = scheduler.setTimeout(() => {
      live.watchdog = undefined;
      this.lose(live, new OpcuaFailure('GS_ERR_OPCUA_TIMEOUT', 'keepalive_timeout', true, `nothing from ${this.cfg.endpoint} for ${silentMs} ms`));
    }, silentMs);
  }

  /** The session is gone: devices are offline now, the old client is closed, a new one comes after a wait. */
  private lose(live: Live, failure: OpcuaFailure): void {
    if (this.live !== live || this.closed) return;
    this.live = undefined;
    this.writeTypes.clear();
    for (const reg of this.regs) reg.groups = [];
    this.log().warn({ endpoint: this.cfg.endpoint, reason: failure.reason, err: failure.message }, 'opc ua session lost');
    this.lastFailure = failure; // logged just now; failed() logs only what changes after this
    this.track(this.dispose(live));
    this.failed(failure);
  }

  private failed(failure: OpcuaFailure): void {
    if (this.lastFailure?.reason !== failure.reason) {
      const level = isSecurityFailure(failure) ? 'error' : 'warn';
      this.log()[level]({ endpoint: this.cfg.endpoint, user: this.cfg.username, reason: failure.reason, err: failure.message }, 'opc ua connect failed');
    }
    for (const reg of this.regs) this.tellDown(reg, failure);
    this.backOff(failure);
  }

  private backOff(failure: OpcuaFailure): void {
    this.lastFailure = failure;
    if (this.closed) return;
    const { scheduler, random } = this.opts.deps;
    const policy = this.opts.reconnect ?? DEFAULT_RECONNECT;
    // A wrong password retried quickly locks the account on many PLCs; a refused certificate needs a
    // technician. Either way, the longest wait.
    const delay = isSecurityFailure(failure) ? policy.capMs : fullJitter(this.failures, policy, random);
    this.failures++;
    if (this.retryTimer !== undefined) scheduler.clearTimeout(this.retryTimer);
    this.retryTimer = scheduler.setTimeout(() => {
      this.retryTimer = undefined;
      // Subscribed devices hear nothing until the session is back; polled ones reconnect on their next read.
      if (this.regs.size > 0 && !this.closed) this.connectSoon();
    }, delay);
  }

  /** Once per outage: a device already offline learns nothing from every failed retry. */
  private tellDown(reg: Registration, failure: OpcuaFailure): void {
    if (reg.downReason !== undefined) return;
    reg.downReason = failure.reason;
    for (const p of reg.points) this.deliver(reg, { point: p.point, ok: false, reason: failure.reason, unreachable: true });
  }

  private deliver(reg: Registration, value: RawPointValue): void {
    try {
      reg.onValue(value);
    } catch (err) {
      this.log().error({ endpoint: this.cfg.endpoint, point: value.point, ...errFields(err) }, 'opc ua value listener failed');
    }
  }

  /** Creates the registration's monitored items: one CreateMonitoredItems call per sampling interval. */
  private async monitor(live: Live, reg: Registration): Promise<void> {
    const ua = await loadNodeOpcua();
    const bySampling = new Map<number, MonitoredPoint[]>();
    for (const p of reg.points) bySampling.set(p.samplingIntervalMs, [...(bySampling.get(p.samplingIntervalMs) ?? []), p]);
    for (const [samplingInterval, points] of bySampling) {
      if (this.live !== live || !this.regs.has(reg)) return;
      let group: UA.ClientMonitoredItemGroup;
      try {
        group = ua.ClientMonitoredItemGroup.create(
          live.subscription,
          points.map((p) => ({ nodeId: p.nodeId, attributeId: ua.AttributeIds.Value })),
          { samplingInterval, discardOldest: true, queueSize: 1 },
          ua.TimestampsToReturn.Both,
        );
      } catch (err) {
        const f = toOpcuaFailure(err);
        for (const p of points) this.deliver(reg, { point: p.point, ok: false, reason: f.reason === 'opcua_error' ? 'opcua_bad_node_id_invalid' : f.reason, unreachable: false });
        continue;
      }
      // Listening before the items exist: the first value of each item may arrive with the reply.
      group.on('changed', (_item: unknown, dv: UA.DataValue, index: number) => {
        if (this.live !== live || !this.regs.has(reg)) return;
        reg.downReason = undefined;
        this.deliver(reg, decodeDataValue(points[index]!.point, dv));
      });
      try {
        await this.initialized(group);
      } catch (err) {
        if (this.live !== live) return;
        const f = toOpcuaFailure(err);
        // No answer to CreateMonitoredItems is a server that stopped answering, not a bad point.
        if (isSessionGone(f) || f.reason === 'timeout') {
          this.lose(live, f);
          return;
        }
        for (const p of points) this.deliver(reg, { point: p.point, ok: false, reason: f.reason, unreachable: false });
        continue;
      }
      if (this.live !== live) return;
      // Unsubscribed while the items were being made: they go again at once.
      if (!this.regs.has(reg)) {
        await this.dropGroups(live, [group]);
        return;
      }
      reg.groups.push(group);
      reg.downReason = undefined;
      group.monitoredItems.forEach((item, i) => {
        const status = (item as { statusCode?: UA.StatusCode }).statusCode;
        // BadNodeIdUnknown and friends: the server answered, the point is bad, the device is not offline.
        if (status && isBadStatus(status.value)) this.deliver(reg, { point: points[i]!.point, ok: false, reason: statusReason(status.name), unreachable: false });
      });
    }
  }

  private initialized(group: UA.ClientMonitoredItemGroup): Promise<void> {
    return this.within(
      new Promise<void>((resolve, reject) => {
        group.once('initialized', () => resolve());
        group.once('terminated', (err?: Error) => reject(err ?? new Error('monitored items terminated')));
      }),
      this.cfg.timeoutMs,
      () => this.timeout('create monitored items', this.cfg.timeoutMs),
    );
  }

  private unsubscribe(reg: Registration): void {
    this.regs.delete(reg);
    const groups = reg.groups.splice(0);
    const live = this.live;
    if (live && groups.length > 0) this.track(this.dropGroups(live, groups));
  }

  private async dropGroups(live: Live, groups: UA.ClientMonitoredItemGroup[]): Promise<void> {
    for (const g of groups) {
      if (this.live !== live || !live.subscription.isActive) return;
      try {
        await g.terminate();
      } catch {
        // the items die with the subscription anyway
      }
    }
  }

  private writeTypeOf(live: Live, nodeId: string): Promise<WriteType> {
    let p = this.writeTypes.get(nodeId);
    if (!p) {
      const fetching = this.fetchWriteType(live, nodeId);
      p = fetching;
      this.writeTypes.set(nodeId, fetching);
      fetching.catch(() => {
        if (this.writeTypes.get(nodeId) === fetching) this.writeTypes.delete(nodeId);
      });
    }
    return p;
  }

  private async fetchWriteType(live: Live, nodeId: string): Promise<WriteType> {
    const ua = await loadNodeOpcua();
    const [dt, rank] = await live.session.read([
      { nodeId, attributeId: ua.AttributeIds.DataType },
      { nodeId, attributeId: ua.AttributeIds.ValueRank },
    ]);
    if (!dt || isBadStatus(dt.statusCode.value)) {
      const name = dt?.statusCode.name ?? 'BadUnexpectedError';
      throw new OpcuaFailure('GS_ERR_OPCUA_STATUS', statusReason(name), false, `${nodeId}: cannot read its DataType (${name})`);
    }
    const id = dt.value.value as UA.NodeId;
    const builtin =
      id.namespace === 0 && typeof id.value === 'number' && id.value <= BuiltinType.DiagnosticInfo
        ? id.value
        : // A subtype (Duration, an enumeration, a vendor type): walk up to the built-in type it encodes as.
          await ua.findBasicDataType(live.session, id);
    const valueRank = rank && !isBadStatus(rank.statusCode.value) && typeof rank.value.value === 'number' ? rank.value.value : -1;
    return { dataType: builtin, valueRank };
  }

  private async dispose(live: Live): Promise<void> {
    if (live.watchdog !== undefined) this.opts.deps.scheduler.clearTimeout(live.watchdog);
    live.watchdog = undefined;
    try {
      await live.client.disconnect();
    } catch {
      // a dead channel cannot say goodbye; the server drops the session when it times out
    }
    await live.certificates.dispose().catch(() => undefined);
  }

  private timeout(what: string, ms: number): OpcuaFailure {
    return new OpcuaFailure('GS_ERR_OPCUA_TIMEOUT', 'timeout', true, `${this.cfg.endpoint}: ${what} took longer than ${ms} ms`);
  }

  /** `work`, or `onTimeout()` after `ms` on the injected scheduler; `abortable` lets close() cut it short. */
  private within<T>(work: Promise<T>, ms: number, onTimeout: () => OpcuaFailure, abortable = false): Promise<T> {
    const { scheduler } = this.opts.deps;
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      const settle = (fn: () => void) => {
        if (settled) return;
        settled = true;
        scheduler.clearTimeout(timer);
        if (abortable) this.abortConnect = undefined;
        fn();
      };
      const timer = scheduler.setTimeout(() => settle(() => reject(onTimeout())), ms);
      if (abortable) this.abortConnect = (f) => settle(() => reject(f));
      work.then(
        (v) => settle(() => resolve(v)),
        (e: unknown) => settle(() => reject(e)),
      );
    });
  }

  private track(p: Promise<unknown>): void {
    const tracked = p.catch((err: unknown) => this.log().debug({ endpoint: this.cfg.endpoint, ...errFields(err) }, 'opc ua background task failed'));
    this.pending.add(tracked);
    void tracked.finally(() => this.pending.delete(tracked));
  }

  /** Waits for background teardown, but not past CLOSE_GRACE_MS: a dead server cannot hold up shutdown. */
  private async settle(): Promise<void> {
    const { scheduler } = this.opts.deps;
    let expired = false;
    let wake!: () => void;
    const grace = new Promise<void>((r) => (wake = r));
    const timer = scheduler.setTimeout(() => {
      expired = true;
      wake();
    }, CLOSE_GRACE_MS);
    while (this.pending.size > 0 && !expired) await Promise.race([Promise.allSettled([...this.pending]), grace]);
    scheduler.clearTimeout(timer);
  }
}

function downAll(items: readonly ReadItem[], f: OpcuaFailure): RawPointValue[] {
  return items.map((i) => ({ point: i.point, ok: false, reason: f.reason, unreachable: f.unreachable }));
}
