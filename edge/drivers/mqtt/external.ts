// Sessions on an existing broker (Mosquitto, EMQX, a cloud IoT bridge). Devices behind one broker share
// one client of the edge, which subscribes to each device's root; MQTT 5 devices are served this way,
// since the embedded broker speaks 3.1.1 only. The broker authenticates the devices, not the edge.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { connect, type IClientOptions, type MqttClient } from 'mqtt';
import { errFields, type Logger } from '../../log.js';
import type { Lease } from '../pool.js';
import type { ChannelEvents, DeviceChannel } from './channel.js';
import type { ResolvedExternal } from './connection.js';

/** Sessions that share one client: same broker, same login, same client id. */
export function linkKey(c: ResolvedExternal): string {
  return JSON.stringify([c.url, c.username ?? '', c.clientId ?? '', c.protocolVersion, c.caFile ?? '']);
}

interface Attached {
  root: string;
  qos: 0 | 1 | 2;
  events: ChannelEvents;
}

export class ExternalLink {
  private readonly client: MqttClient;
  private readonly attached = new Set<Attached>();
  /** undefined until the first connect or failure, so the first failure is reported too. */
  private up?: boolean;
  private lastError?: string;
  readonly busId: string;

  constructor(
    private readonly c: ResolvedExternal,
    private readonly log: Logger,
  ) {
    this.busId = `bus:${c.url}`;
    const opts: IClientOptions = {
      clientId: c.clientId ?? `gridsense-edge-${randomBytes(4).toString('hex')}`,
      protocolVersion: c.protocolVersion,
      clean: true,
      reconnectPeriod: 2000,
      connectTimeout: 10_000,
      // Subscriptions are redone on every connect below, for the roots attached at that moment.
      resubscribe: false,
      // A refused login (broker's auth backend down, password being rotated) is retried like a lost link.
      reconnectOnConnackError: true,
      ...(c.username !== undefined ? { username: c.username } : {}),
      ...(c.password !== undefined ? { password: c.password } : {}),
      ...(c.caFile !== undefined ? { ca: readFileSync(c.caFile) } : {}),
    };
    this.client = connect(c.url, opts);
    this.client.on('connect', () => {
      this.up = true;
      this.lastError = undefined;
      this.log.info({ broker: c.url, clientId: opts.clientId }, 'connected to MQTT broker');
      for (const a of this.attached) this.subscribe(a);
    });
    this.client.on('close', () => {
      if (this.up === false) return;
      this.up = false;
      this.log.warn({ code: 'GS_ERR_MQTT_BROKER', broker: c.url }, 'MQTT broker connection lost; devices behind it are unreachable until it is back');
      for (const a of [...this.attached]) a.events.offline('broker_disconnected');
    });
    this.client.on('error', (err) => {
      // Each reconnect attempt repeats the error; one line per new cause is enough.
      if (err.message === this.lastError) return;
      this.lastError = err.message;
      // errFields carries MQTT.js's reason code (135 not authorized…) as `code`; keep it, under our code.
      this.log.error({ ...errFields(err), reasonCode: (err as { code?: unknown }).code, code: 'GS_ERR_MQTT_BROKER', broker: c.url }, 'MQTT broker error');
    });
    this.client.on('message', (topic, payload) => {
      for (const a of this.attached) if (topic.startsWith(a.root)) a.events.message(topic, payload);
    });
  }

  attach(root: string, qos: 0 | 1 | 2, events: ChannelEvents): () => void {
    const a: Attached = { root, qos, events };
    this.attached.add(a);
    if (this.up) this.subscribe(a);
    return () => {
      if (!this.attached.delete(a)) return;
      const stillUsed = [...this.attached].some((o) => o.root === root);
      if (this.up && !stillUsed) this.client.unsubscribe(`${root}#`, (err) => err && this.log.warn({ root, ...errFields(err) }, 'MQTT unsubscribe failed'));
    };
  }

  get connected(): boolean {
    return this.up === true;
  }

  async publish(topic: string, payload: Buffer, qos: 0 | 1 | 2): Promise<void> {
    await this.client.publishAsync(topic, payload, { qos });
  }

  async close(): Promise<void> {
    this.attached.clear();
    await this.client.endAsync(true);
  }

  private subscribe(a: Attached): void {
    this.client.subscribe(`${a.root}#`, { qos: a.qos }, (err, granted) => {
      const refused = granted?.find((g) => g.qos >= 0x80);
      if (err || refused) {
        this.log.error({ ...(err ? errFields(err) : {}), code: 'GS_ERR_MQTT_ACL_DENIED', broker: this.c.url, filter: `${a.root}#` }, 'MQTT broker refused the edge\'s subscription');
      }
    });
  }
}

export function externalChannel(lease: Lease<ExternalLink>, c: ResolvedExternal, events: ChannelEvents): DeviceChannel {
  const link = lease.value;
  const detach = link.attach(c.root, c.qos, events);
  return {
    busId: link.busId,
    // The broker knows, the edge does not: only the status topic (last will) says a device is gone.
    connected: () => (link.connected ? undefined : false),
    publish: (topic, payload, qos) => link.publish(topic, payload, qos),
    close: async () => {
      detach();
      await lease.release();
    },
  };
}
