// Long-polls of GET /edges/firmware/jobs wait here for their edge's counter (firmware_edges) to move,
// or for the edge to be revoked. A change committed through this instance wakes its waiters at once
// (notify); changes made through another instance are found by one shared poll of the waiting edges
// every `pollMs`, and on PostgreSQL at once through NOTIFY. Same design as fleet/config-watch.ts.
import type { OpenDatabase, Unlisten } from '../db/open.js';
import { FIRMWARE_CHANNEL } from './changes.js';
import type { FwDb } from './tables.js';

interface Waiter {
  edgeId: string;
  version: number;
  wake: () => void;
}

export interface FirmwareWatchOptions {
  db: FwDb;
  pollMs: number;
  listen?: OpenDatabase['listen'];
  onError?: (err: unknown) => void;
}

export class FirmwareWatch {
  private readonly waiters = new Set<Waiter>();
  private timer?: NodeJS.Timeout;
  private polling?: Promise<void>;
  private unlisten?: Unlisten;
  private closed = false;

  constructor(private readonly o: FirmwareWatchOptions) {}

  async start(): Promise<void> {
    if (!this.o.listen) return;
    try {
      this.unlisten = await this.o.listen(FIRMWARE_CHANNEL, () => void this.poll(), (err) => this.o.onError?.(err));
    } catch (err) {
      // Polling still finds every change; NOTIFY only makes it immediate.
      this.o.onError?.(err);
    }
  }

  get waiting(): number {
    return this.waiters.size;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Resolves when the edge's counter may differ from `version`, it may be revoked, `ms` passed, `signal` aborted or the watch closed. */
  wait(edgeId: string, version: number, ms: number, signal?: AbortSignal): Promise<void> {
    if (this.closed || signal?.aborted || ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timeout);
        signal?.removeEventListener('abort', done);
        this.waiters.delete(waiter);
        if (this.waiters.size === 0) this.stopPolling();
        resolve();
      };
      const waiter: Waiter = { edgeId, version, wake: done };
      const timeout = setTimeout(done, ms);
      signal?.addEventListener('abort', done, { once: true });
      this.waiters.add(waiter);
      this.startPolling();
    });
  }

  /** After a commit that changed these edges' job lists (or revoked them): wake their waiters here. */
  notify(edgeIds: Iterable<string>): void {
    const ids = new Set(edgeIds);
    if (ids.size === 0) return;
    for (const w of [...this.waiters]) if (ids.has(w.edgeId)) w.wake();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.stopPolling();
    for (const w of [...this.waiters]) w.wake();
    await this.polling;
    await this.unlisten?.();
  }

  private startPolling(): void {
    if (this.timer || this.o.pollMs <= 0 || this.closed) return;
    this.timer = setInterval(() => void this.poll(), this.o.pollMs);
    this.timer.unref();
  }

  private stopPolling(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One read of the waiting edges' counters and revocations; wakes those that moved. Never overlaps itself. */
  private poll(): Promise<void> {
    if (this.polling || this.waiters.size === 0 || this.closed) return this.polling ?? Promise.resolve();
    const ids = [...new Set([...this.waiters].map((w) => w.edgeId))];
    this.polling = this.o.db
      .selectFrom('edges')
      .leftJoin('firmware_edges', 'firmware_edges.edge_id', 'edges.id')
      .select(['edges.id as id', 'edges.revoked_at as revokedAt', 'firmware_edges.version as version'])
      .where('edges.id', 'in', ids)
      .execute()
      .then((rows) => {
        const current = new Map(rows.map((r) => [r.id, r]));
        for (const w of [...this.waiters]) {
          const r = current.get(w.edgeId);
          if (!r || r.revokedAt !== null || Number(r.version ?? 0) !== w.version) w.wake();
        }
      })
      .catch((err: unknown) => this.o.onError?.(err))
      .finally(() => (this.polling = undefined));
    return this.polling;
  }
}
