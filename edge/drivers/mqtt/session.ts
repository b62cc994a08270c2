// One MQTT device. Its values arrive when it publishes: `subscribe` pushes them as they come, `read`
// answers from the last message on each topic. The broker side (embedded or external) is a channel.
import { GsError } from '../../../contracts/errors.js';
import type { ProfilePoint as Point } from '../../../contracts/profile.js';
import type { Logger } from '../../log.js';
import type { RawPointValue, RawValue, Session } from '../driver.js';
import type { DeviceChannel, OpenChannel } from './channel.js';
import { decodePoint, encodePointPayload, Payload, type Decoded } from './codec.js';
import type { ResolvedMqtt } from './connection.js';
import { parseStatus } from './status.js';

interface Subscriber {
  byTopic: Map<string, Point[]>;
  points: readonly Point[];
  onValue: (value: RawPointValue) => void;
}

/** Commands go to `<root>cmd/<point name>`, as the firmware specs ask devices to subscribe. */
export const COMMAND_PREFIX = 'cmd/';

export class MqttSession implements Session {
  readonly busId?: string;
  private readonly channel: DeviceChannel;
  /** The last message per topic (relative to the root); dropped when the device goes offline. */
  private readonly latest = new Map<string, Payload>();
  private readonly subscribers = new Set<Subscriber>();
  /** Set from an offline event until the device is heard again. */
  private offline?: string;
  /** Whether the device has shown any sign of life since the session opened. */
  private heard = false;
  /** What was last logged per point (or per topic for unreadable payloads), so garbage at 1 Hz logs once. */
  private readonly logged = new Map<string, string>();
  private closed = false;

  constructor(
    private readonly c: ResolvedMqtt,
    openChannel: OpenChannel,
    private readonly log: Logger,
  ) {
    this.channel = openChannel({
      message: (topic, payload) => this.onMessage(topic, payload),
      online: () => this.onOnline(),
      offline: (reason) => this.onOffline(reason),
    });
    if (this.channel.busId !== undefined) this.busId = this.channel.busId;
  }

  async read(points: readonly Point[]): Promise<RawPointValue[]> {
    this.assertOpen();
    return points.map((p) => this.current(p));
  }

  async write(point: Point, value: RawValue): Promise<void> {
    this.assertOpen();
    if (!point.mqtt) throw new GsError('GS_ERR_DRIVER_VALUE', `point ${point.name} has no mqtt block`);
    if (this.offline !== undefined || this.channel.connected() === false) {
      throw new GsError('GS_ERR_DEVICE_UNREACHABLE', `device ${this.c.deviceId} is not connected (${this.offline ?? 'not connected'}); a command now would not arrive`);
    }
    await this.channel.publish(`${this.c.root}${COMMAND_PREFIX}${point.name}`, encodePointPayload(point, value), this.c.qos);
  }

  subscribe(points: readonly Point[], onValue: (value: RawPointValue) => void): () => void {
    const byTopic = new Map<string, Point[]>();
    for (const p of points) {
      if (!p.mqtt) continue;
      const list = byTopic.get(p.mqtt.topic) ?? [];
      list.push(p);
      byTopic.set(p.mqtt.topic, list);
    }
    const sub: Subscriber = { byTopic, points, onValue };
    this.subscribers.add(sub);
    return () => void this.subscribers.delete(sub);
  }

  subscribes(point: Point): boolean {
    return point.mqtt !== undefined;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.subscribers.clear();
    await this.channel.close();
  }

  private current(p: Point): RawPointValue {
    if (!p.mqtt) return { point: p.name, ok: false, reason: 'no_mqtt_attributes', unreachable: false };
    if (this.offline !== undefined) return { point: p.name, ok: false, reason: this.offline, unreachable: true };
    const payload = this.latest.get(p.mqtt.topic);
    if (!payload) {
      // Nothing on this topic yet. A device that is connected or has spoken is there, just quiet on this
      // topic (event-driven sensors); one never seen at all counts as not answering.
      const there = this.heard || this.channel.connected() === true;
      return { point: p.name, ok: false, reason: 'no_data', unreachable: !there };
    }
    return this.decode(p, p.mqtt.topic, payload);
  }

  private onMessage(topic: string, bytes: Buffer): void {
    if (this.closed || !topic.startsWith(this.c.root)) return;
    const rel = topic.slice(this.c.root.length);
    if (rel === this.c.statusTopic) {
      const status = parseStatus(bytes);
      if (status === 'offline') return this.onOffline('last_will');
      if (status === 'online') return this.onOnline();
    }
    this.onOnline();
    const payload = new Payload(bytes);
    this.latest.set(rel, payload);
    for (const sub of [...this.subscribers]) {
      for (const p of sub.byTopic.get(rel) ?? []) sub.onValue(this.decode(p, rel, payload));
    }
  }

  private onOnline(): void {
    this.heard = true;
    this.offline = undefined;
  }

  private onOffline(reason: string): void {
    if (this.closed || this.offline !== undefined) return;
    this.offline = reason;
    this.latest.clear();
    this.log.warn({ deviceId: this.c.deviceId, reason }, 'mqtt device offline');
    // Every point is unknown now; the first of these makes the poller mark the device offline at once.
    for (const sub of [...this.subscribers]) {
      for (const p of sub.points) sub.onValue({ point: p.name, ok: false, reason, unreachable: true });
    }
  }

  private decode(p: Point, topic: string, payload: Payload): RawPointValue {
    const d = decodePoint(payload, p);
    this.logOutcome(p, topic, d);
    return d.ok ? { point: p.name, ok: true, value: d.value } : { point: p.name, ok: false, reason: d.reason, unreachable: false };
  }

  private logOutcome(p: Point, topic: string, d: Decoded): void {
    // An unreadable payload is one fault of the message, not one per point.
    const key = !d.ok && d.reason === 'bad_payload' ? `topic:${topic}` : `point:${p.name}`;
    if (d.ok) {
      this.logged.delete(key);
      this.logged.delete(`topic:${topic}`);
      return;
    }
    if (this.logged.get(key) === d.reason) return;
    this.logged.set(key, d.reason);
    this.log.error(
      { code: 'GS_ERR_MQTT_PAYLOAD', deviceId: this.c.deviceId, point: p.name, topic: `${this.c.root}${topic}`, reason: d.reason, detail: d.detail },
      'mqtt payload cannot be read for this point',
    );
  }

  private assertOpen(): void {
    if (this.closed) throw new GsError('GS_ERR_DRIVER_CLOSED');
  }
}
