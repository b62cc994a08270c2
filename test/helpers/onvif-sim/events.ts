// The simulated camera's event service: WS-BaseNotification pull points as ONVIF Core 9.x describes
// them (events.wsdl: CreatePullPointSubscription, PullMessages; b-2: Renew, Unsubscribe).
// - A new pull point first delivers one `Initialized` message per property (the current state), then
//   `Changed` messages as emit() changes a state.
// - PullMessages waits up to its Timeout for a message and returns at once when one is queued.
// - A subscription ends at its TerminationTime (camera clock) unless renewed; then, or after a reboot,
//   it is unknown and every call on it faults.
import { randomUUID } from 'node:crypto';
import { escapeText, isoSeconds } from './soap.js';
import type { SimEventKind, SimVendor } from './vendors.js';

export interface SimMessage {
  kind: SimEventKind;
  active: boolean;
  op: 'Initialized' | 'Changed';
  utc: number;
}

export interface Subscription {
  id: string;
  terminationAt: number;
  queue: SimMessage[];
  wake?: () => void;
  pulls: number;
}

const QUEUE_MAX = 500;

export class EventBroker {
  private readonly subs = new Map<string, Subscription>();
  readonly state: Record<SimEventKind, boolean> = { motion: false, tamper: false, video_loss: false };

  constructor(
    private readonly vendor: SimVendor,
    private readonly now: () => number,
    private readonly topicPrefix = 'tns1',
  ) {}

  get size(): number {
    this.sweep();
    return this.subs.size;
  }

  create(terminationMs: number): Subscription {
    const now = this.now();
    const sub: Subscription = { id: randomUUID(), terminationAt: now + terminationMs, queue: [], pulls: 0 };
    for (const kind of Object.keys(this.state) as SimEventKind[]) sub.queue.push({ kind, active: this.state[kind], op: 'Initialized', utc: now });
    this.subs.set(sub.id, sub);
    return sub;
  }

  get(id: string): Subscription | undefined {
    this.sweep();
    return this.subs.get(id);
  }

  /** Waits up to `timeoutMs` for messages; returns at most `limit` of them. */
  async pull(sub: Subscription, timeoutMs: number, limit: number, closed: Promise<void>): Promise<SimMessage[]> {
    sub.pulls++;
    if (sub.queue.length === 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, timeoutMs);
          sub.wake = resolve;
        }),
        closed,
      ]);
      clearTimeout(timer);
      sub.wake = undefined;
    }
    return sub.queue.splice(0, Math.max(1, limit));
  }

  renew(sub: Subscription, terminationMs: number): void {
    sub.terminationAt = this.now() + terminationMs;
  }

  unsubscribe(id: string): boolean {
    const sub = this.subs.get(id);
    sub?.wake?.();
    return this.subs.delete(id);
  }

  /** The camera detects something (active) or it ends: a Changed message to every pull point. */
  emit(kind: SimEventKind, active: boolean): void {
    this.state[kind] = active;
    const msg: SimMessage = { kind, active, op: 'Changed', utc: this.now() };
    for (const sub of this.subs.values()) {
      sub.queue.push(msg);
      if (sub.queue.length > QUEUE_MAX) sub.queue.shift();
      sub.wake?.();
    }
  }

  /** A reboot: every subscription is gone; states are back to idle. */
  reset(): void {
    for (const sub of this.subs.values()) sub.wake?.();
    this.subs.clear();
    for (const k of Object.keys(this.state) as SimEventKind[]) this.state[k] = false;
  }

  messageXml(m: SimMessage): string {
    const t = this.vendor.topics[m.kind];
    const topic = this.topicPrefix === 'tns1' ? t.topic : t.topic.replaceAll('tns1:', `${this.topicPrefix}:`);
    const decl = this.topicPrefix === 'tns1' ? '' : ` xmlns:${this.topicPrefix}="http://www.onvif.org/ver10/topics"`;
    const items = (o: Record<string, string>) => Object.entries(o).map(([k, v]) => `<tt:SimpleItem Name="${escapeText(k)}" Value="${escapeText(v)}"/>`).join('');
    return (
      `<wsnt:NotificationMessage${decl}>` +
      `<wsnt:Topic Dialect="http://www.onvif.org/ver10/tev/topicExpression/ConcreteSet">${topic}</wsnt:Topic>` +
      `<wsnt:Message><tt:Message UtcTime="${isoSeconds(m.utc)}" PropertyOperation="${m.op}">` +
      `<tt:Source>${items(t.source)}</tt:Source>` +
      `<tt:Data>${items({ [t.item]: String(m.active) })}</tt:Data>` +
      '</tt:Message></wsnt:Message></wsnt:NotificationMessage>'
    );
  }

  private sweep(): void {
    const now = this.now();
    for (const [id, sub] of this.subs) {
      if (sub.terminationAt <= now) {
        sub.wake?.();
        this.subs.delete(id);
      }
    }
  }
}
