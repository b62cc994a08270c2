// Long-polls that wait for something of one edge to move (its configuration version, its firmware job
// list). A change committed through this instance wakes its waiters at once (notify); changes made
// through another instance are found by one shared read of the waiting edges every `pollMs`, and on
// PostgreSQL at once through NOTIFY on `channel` (the writer notifies inside its transaction).
import type { OpenDatabase, Unlisten } from './open.js';

interface Waiter {
  edgeId: string;
  /** The version the waiting edge holds; a different one in the database wakes it. */
  version: number;
  wake: () => void;
}

export interface EdgeVersionWatchOptions {
  /** The NOTIFY channel writers signal on. */
  channel: string;
  /** How often the waiting edges are read while someone waits (other instances' changes), ms; 0: never. */
  pollMs: number;
  listen?: OpenDatabase['listen'];
  onError?: (err: unknown) => void;
  /** Reads the waiting edges once; the answer tells whether an edge holding `version` must look again. */
  read: (edgeIds: string[]) => Promise<(edgeId: string, version: number) => boolean>;
}

export class EdgeVersionWatch {
  private readonly waiters = new Set<Waiter>();
  private timer?: NodeJS.Timeout;
  private polling?: Promise<void>;
  private unlisten?: Unlisten;
  private closed = false;

  constructor(private readonly o: EdgeVersionWatchOptions) {}

  async start(): Promise<void> {
    if (!this.o.listen) return;
    try {
      this.unlisten = await this.o.listen(this.o.channel, () => void this.poll(), (err) => this.o.onError?.(err));
    } catch (err) {
      // Polling still finds every change; NOTIFY only makes it immediate.
      this.o.onError?.(err);
    }
  }

  /** Waiting requests right now (tests, metrics). */
  get waiting(): number {
    return this.waiters.size;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * Resolves when `edgeId`'s version may differ from `version` (a local change, a read that saw one,
   * a NOTIFY), when `ms` have passed, when `signal` aborts or when the watch closes. The caller reads
   * again either way.
   */
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

  /** After a commit that changed these edges: wake their waiters here. */
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

  /** One read of the waiting edges; wakes those that moved. Never overlaps itself. */
  private poll(): Promise<void> {
    if (this.polling || this.waiters.size === 0 || this.closed) return this.polling ?? Promise.resolve();
    const ids = [...new Set([...this.waiters].map((w) => w.edgeId))];
    this.polling = this.o
      .read(ids)
      .then((moved) => {
        for (const w of [...this.waiters]) if (moved(w.edgeId, w.version)) w.wake();
      })
      .catch((err: unknown) => this.o.onError?.(err))
      .finally(() => (this.polling = undefined));
    return this.polling;
  }
}
