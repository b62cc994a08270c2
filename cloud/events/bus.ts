// Live event notifications for the SSE stream (and later webhooks). Ingest publishes through this
// interface after its transaction commits; today one process, later fanned out across cloud
// instances over PostgreSQL LISTEN/NOTIFY by another implementation of the same interface.
import type { EventJson } from './schemas.js';

export type BusMessageType = 'event.opened' | 'event.updated' | 'event.cleared' | 'event.closed';

export interface BusMessage {
  /** Monotonic per bus; the SSE `id:`. */
  id: number;
  type: BusMessageType;
  event: EventJson;
}

export type BusListener = (m: BusMessage) => void;

export interface EventBus {
  publish(type: BusMessageType, event: EventJson): void;
  /** Returns the unsubscribe function. */
  subscribe(listener: BusListener): () => void;
  close(): Promise<void>;
}

/**
 * In-process bus. A plain set rather than an EventEmitter so one failing listener (a broken SSE
 * socket) cannot stop the others from being called, and no max-listener warning fires at scale.
 */
export class InProcessEventBus implements EventBus {
  private readonly listeners = new Set<BusListener>();
  private seq = 0;

  constructor(private readonly onListenerError: (err: unknown) => void = () => undefined) {}

  publish(type: BusMessageType, event: EventJson): void {
    const m: BusMessage = { id: ++this.seq, type, event };
    for (const l of [...this.listeners]) {
      try {
        l(m);
      } catch (err) {
        this.onListenerError(err);
      }
    }
  }

  subscribe(listener: BusListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get size(): number {
    return this.listeners.size;
  }

  async close(): Promise<void> {
    this.listeners.clear();
  }
}
