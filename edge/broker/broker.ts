// The edge's own MQTT broker (aedes, MQTT 3.1.1) for sensors that publish straight to the town box.
// Each device logs in with its own credentials and may only use its own topic root; the driver sessions
// hear their device's messages and whether it is connected, in-process, without a client of their own.
// Constructing does nothing: start() listens, stop() closes every socket and timer.
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { Aedes, type AuthenticateError, type Client } from 'aedes';
import { GsError } from '../../contracts/errors.js';
import { errFields, type Logger } from '../log.js';
import { maySubscribe, mayPublish } from './acl.js';
import { DeviceAccounts, type DeviceAccount } from './accounts.js';
import type { BrokerSettings } from './config.js';
import { FrameGuard } from './frame-guard.js';

/** Why a device went away without saying goodbye (a DISCONNECT packet is a goodbye: a sleepy sensor). */
export type OfflineReason = 'last_will' | 'disconnected';

export interface DeviceEvents {
  message(topic: string, payload: Buffer): void;
  connected(): void;
  offline(reason: OfflineReason): void;
}

export interface EdgeBrokerOptions extends Omit<BrokerSettings, 'enabled'> {
  logger: Logger;
}

interface ClientInfo {
  /** The CONNECT packet's will, by identity: aedes publishes this very object when the device drops. */
  will?: object;
  account?: DeviceAccount;
}

// CONNACK return codes (MQTT 3.1.1, table 3.1).
const BAD_USERNAME_OR_PASSWORD = 4;
const NOT_AUTHORIZED = 5;
/** Room for the topic (≤ 65 535 bytes) and ids around a payload of maxPayload bytes. */
const PACKET_OVERHEAD = 70_000;

export class EdgeBroker {
  private aedes?: Aedes;
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  private readonly accounts = new DeviceAccounts();
  private readonly listeners = new Map<string, Set<DeviceEvents>>();
  private readonly info = new WeakMap<Client, ClientInfo>();
  /** Authenticated connections per device: a device counts as connected while it has one. */
  private readonly connections = new Map<string, Set<Client>>();
  private readonly log: Logger;
  private boundPort = 0;

  constructor(private readonly opts: EdgeBrokerOptions) {
    this.log = opts.logger;
  }

  async start(): Promise<void> {
    if (this.server) return;
    const aedes = await Aedes.createBroker({
      preConnect: (client, packet, cb) => {
        this.info.set(client, packet.will ? { will: packet.will } : {});
        cb(null, true);
      },
      authenticate: (client, username, password, cb) => void this.authenticate(client, username, password, cb),
      authorizePublish: (client, packet, cb) => cb(this.refusePublish(client, packet.topic, packet.payload)),
      authorizeSubscribe: (client, sub, cb) => cb(null, this.allowSubscribe(client, sub.topic) ? sub : null),
    });
    aedes.on('publish', (packet, client) => {
      if (!client || packet.topic.startsWith('$')) return;
      const info = this.info.get(client);
      // The will is not a reading: the disconnect has already told the device's listeners it went offline.
      if (info?.will !== undefined && info.will === (packet as object)) return;
      const account = info?.account;
      if (account) for (const l of this.listenersOf(account.deviceId)) l.message(packet.topic, Buffer.from(packet.payload));
    });
    aedes.on('clientReady', (client) => this.onReady(client));
    aedes.on('clientDisconnect', (client) => this.onDisconnect(client));
    aedes.on('clientError', (client, err) => this.log.debug({ clientId: client.id, ...errFields(err) }, 'mqtt client error'));
    aedes.on('connectionError', (client, err) => this.log.debug({ clientId: client.id, ...errFields(err) }, 'mqtt connection error'));
    // Persistence failures arrive as 'error', which the typings omit; unhandled, it would kill the edge.
    (aedes as unknown as NodeJS.EventEmitter).on('error', (err: unknown) => this.log.error({ ...errFields(err), code: 'GS_ERR_MQTT_BROKER' }, 'mqtt broker error'));

    const server = createServer((socket) => this.accept(aedes, socket));
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(this.opts.port, this.opts.host, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      await new Promise<void>((r) => aedes.close(() => r()));
      throw new GsError('GS_ERR_MQTT_BROKER', `embedded MQTT broker cannot listen on ${this.opts.host}:${this.opts.port}: ${(err as Error).message}`, [], { cause: err });
    }
    server.on('error', (err) => this.log.error({ ...errFields(err), code: 'GS_ERR_MQTT_BROKER' }, 'mqtt listener error'));
    this.aedes = aedes;
    this.server = server;
    this.boundPort = (server.address() as AddressInfo).port;
    this.log.info({ host: this.opts.host, port: this.boundPort }, 'embedded MQTT broker listening');
  }

  async stop(): Promise<void> {
    const { aedes, server } = this;
    if (!aedes || !server) return;
    this.aedes = undefined;
    this.server = undefined;
    const closed = new Promise<void>((r) => server.close(() => r()));
    await new Promise<void>((r) => aedes.close(() => r()));
    // Sockets that never sent CONNECT are not aedes clients and would hold server.close() open.
    for (const s of this.sockets) s.destroy();
    await closed;
    this.connections.clear();
  }

  /** Where it listens (the real port when configured with 0). */
  address(): { host: string; port: number } {
    return { host: this.opts.host, port: this.boundPort };
  }

  get listening(): boolean {
    return this.server !== undefined;
  }

  /**
   * Lets the device in and routes its messages and connection changes to `events`; returns the detach.
   * When the device's last listener detaches, its account goes and its open connections are closed.
   * Throws GS_ERR_MQTT_ACCOUNT_CONFLICT when the username or root belongs to another device.
   */
  attach(account: DeviceAccount, events: DeviceEvents): () => void {
    const removeAccount = this.accounts.add(account);
    let set = this.listeners.get(account.deviceId);
    if (!set) this.listeners.set(account.deviceId, (set = new Set()));
    set.add(events);
    const held = set;
    return () => {
      removeAccount();
      held.delete(events);
      if (held.size > 0 || this.listeners.get(account.deviceId) !== held) return;
      this.listeners.delete(account.deviceId);
      for (const c of this.connections.get(account.deviceId) ?? []) c.close();
    };
  }

  isConnected(deviceId: string): boolean {
    return (this.connections.get(deviceId)?.size ?? 0) > 0;
  }

  /** Publishes as the edge (commands to devices); the ACL is for devices, not for the edge. */
  publish(topic: string, payload: Buffer, opts: { qos?: 0 | 1 | 2; retain?: boolean } = {}): Promise<void> {
    const aedes = this.aedes;
    if (!aedes) return Promise.reject(new GsError('GS_ERR_MQTT_BROKER', 'the embedded MQTT broker is not running'));
    return new Promise((resolve, reject) => {
      aedes.publish({ cmd: 'publish', topic, payload, qos: opts.qos ?? 1, retain: opts.retain ?? false, dup: false }, (err) => (err ? reject(err) : resolve()));
    });
  }

  private accept(aedes: Aedes, socket: Socket): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    // Request/answer exchanges (OTA chunks, acks) would otherwise wait ~40 ms each on Nagle + delayed ACK.
    socket.setNoDelay(true);
    const client = aedes.handle(socket);
    const guard = new FrameGuard(this.opts.maxPayload + PACKET_OVERHEAD, (announced) => {
      const account = this.info.get(client)?.account;
      this.log.warn(
        { code: 'GS_ERR_MQTT_PAYLOAD_TOO_LARGE', clientId: client.id, deviceId: account?.deviceId, announced, maxPayload: this.opts.maxPayload },
        'mqtt packet too large; connection closed',
      );
      socket.destroy();
    });
    // With a 'readable' listener (aedes has one), 'data' only reports what aedes reads: no flow change.
    socket.on('data', (chunk: Buffer) => guard.push(chunk));
  }

  private async authenticate(
    client: Client,
    username: string | undefined,
    password: Buffer | undefined,
    cb: (error: AuthenticateError | null, success: boolean | null) => void,
  ): Promise<void> {
    let result: Awaited<ReturnType<DeviceAccounts['authenticate']>>;
    try {
      result = username === undefined ? { reason: 'unknown_user' } : await this.accounts.authenticate(username, password);
    } catch (err) {
      this.log.error({ ...errFields(err), code: 'GS_ERR_MQTT_BROKER', clientId: client.id }, 'mqtt password check failed');
      result = { reason: 'bad_password' };
    }
    if (result.account && !result.reason) {
      const info = this.info.get(client) ?? {};
      this.info.set(client, { ...info, account: result.account });
      cb(null, true);
      return;
    }
    const returnCode = result.reason === 'unknown_user' ? NOT_AUTHORIZED : BAD_USERNAME_OR_PASSWORD;
    this.log.warn(
      { code: 'GS_ERR_MQTT_AUTH_REFUSED', clientId: client.id, username, deviceId: result.account?.deviceId, reason: result.reason, remote: remoteOf(client) },
      'mqtt login refused',
    );
    const err = Object.assign(new Error(result.reason), { returnCode }) as AuthenticateError;
    cb(err, false);
  }

  /** Null when the publish may go through; an Error (aedes then closes the connection, MQTT-3.3.5-2) otherwise. */
  private refusePublish(client: Client | null, topic: string, payload: Buffer | string): Error | null {
    const account = client ? this.info.get(client)?.account : undefined;
    if (!client || !account) return new Error('not a device connection');
    const size = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;
    if (size > this.opts.maxPayload) {
      this.log.warn({ code: 'GS_ERR_MQTT_PAYLOAD_TOO_LARGE', deviceId: account.deviceId, topic, size, maxPayload: this.opts.maxPayload }, 'mqtt publish refused: payload too large');
      return new Error('payload too large');
    }
    if (!mayPublish(account.root, topic)) {
      this.log.warn(
        { code: 'GS_ERR_MQTT_ACL_DENIED', deviceId: account.deviceId, clientId: client.id, topic, root: account.root, will: client.closed },
        client.closed ? 'mqtt last will refused: topic outside the device root' : 'mqtt publish refused: topic outside the device root; connection closed',
      );
      return new Error(`publish to ${topic} is outside ${account.root}`);
    }
    return null;
  }

  private allowSubscribe(client: Client, filter: string): boolean {
    const account = this.info.get(client)?.account;
    if (account && maySubscribe(account.root, filter)) return true;
    this.log.warn({ code: 'GS_ERR_MQTT_ACL_DENIED', deviceId: account?.deviceId, clientId: client.id, filter, root: account?.root }, 'mqtt subscribe refused: filter outside the device root');
    return false;
  }

  private onReady(client: Client): void {
    const account = this.info.get(client)?.account;
    if (!account) return;
    if (this.accounts.get(account.username) !== account) {
      // Detached (or given new credentials) between the password check and now.
      client.close();
      return;
    }
    let set = this.connections.get(account.deviceId);
    if (!set) this.connections.set(account.deviceId, (set = new Set()));
    set.add(client);
    this.log.debug({ deviceId: account.deviceId, clientId: client.id }, 'mqtt device connected');
    for (const l of this.listenersOf(account.deviceId)) l.connected();
  }

  private onDisconnect(client: Client): void {
    const info = this.info.get(client);
    const account = info?.account;
    if (!account) return;
    const set = this.connections.get(account.deviceId);
    set?.delete(client);
    if (set && set.size === 0) this.connections.delete(account.deviceId);
    const clean = cleanlyDisconnected(client);
    this.log.info({ deviceId: account.deviceId, clientId: client.id, clean, will: info.will !== undefined }, 'mqtt device disconnected');
    // A clean DISCONNECT is a sensor going to sleep, not a fault; the poller's silence watch covers it.
    if (clean || this.isConnected(account.deviceId)) return;
    const reason: OfflineReason = info.will ? 'last_will' : 'disconnected';
    for (const l of this.listenersOf(account.deviceId)) l.offline(reason);
  }

  private listenersOf(deviceId: string): DeviceEvents[] {
    return [...(this.listeners.get(deviceId) ?? [])];
  }
}

/**
 * Whether the client sent DISCONNECT. aedes 1.x keeps that in a private flag (it decides on it whether to
 * publish the will) and has no public equivalent; broker.test.ts pins the behaviour for upgrades.
 */
function cleanlyDisconnected(client: Client): boolean {
  return (client as unknown as { _disconnected?: boolean })._disconnected === true;
}

function remoteOf(client: Client): string | undefined {
  const s = client.conn as Partial<Socket>;
  return s.remoteAddress ? `${s.remoteAddress}:${s.remotePort}` : undefined;
}
