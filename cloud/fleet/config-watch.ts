// Long-polls of GET /edges/config wait here for their edge's configuration version to move. A change
// committed through this instance wakes its waiters at once (notify); changes made through another
// instance are found by one shared poll of the waiting edges' versions every `pollMs`, and on
// PostgreSQL at once through NOTIFY (the writer calls configChanged() in its transaction).
import { sql, type Kysely } from 'kysely';
import { isPostgres } from '../db/dialect.js';
import type { OpenDatabase, Unlisten } from '../db/open.js';
import type { Database } from '../db/schema.js';

/** The NOTIFY channel of configuration changes: "some edge's version moved, look". */
export const CONFIG_CHANNEL = 'gridsense_config';

interface Waiter {
  edgeId: string;
  /** The version the waiting edge runs; a different one in the database wakes it. */
  version: number;
  wake: () => void;
}

export interface ConfigWatchOptions {
  db: Kysely<Database>;
  /** How often versions are read while someone waits (other instances' changes), ms; 0: never. */
  pollMs: number;
  listen?: OpenDatabase['listen'];
  onError?: (err: unknown) => void;
}

/**
 * Call inside the transaction that bumped `config_version`: on PostgreSQL every instance listening
 * hears of it at commit (and not at all on rollback). SQLite: nothing to do.
 */
export async function configChanged(trx: Kysely<Database>): Promise<void> {
  if (isPostgres(trx)) await sql`select pg_notify(${CONFIG_CHANNEL}, current_schema())`.execute(trx);
}

export class ConfigWatch {
  private readonly waiters = new Set<Waiter>();
  private timer?: NodeJS.Timeout;
  private polling?: Promise<void>;
  private unlisten?: Unlisten;
  private closed = false;

  constructor(private readonly o: ConfigWatchOptions) {}

  async start(): Promise<void> {
    if (this.o.listen) {
      try {
        this.unlisten = await this.o.listen(CONFIG_CHANNEL, () => void this.poll(), (err) => this.o.onError?.(err));
      } catch (err) {
        // Polling still finds every change; NOTIFY only makes it immediate.
        this.o.onError?.(err);
      }
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
   * Resolves when `edgeId`'s version may differ from `version` (a local change, a poll that saw one,
   * a NOTIFY), when `ms` have passed, when `signal` aborts or when the watch closes. The caller reads
   * the version again either way.
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

  /** After a commit that changed these edges' configuration: wake their waiters here. */
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

  /** One read of the waiting edges' versions; wakes those that moved. Never overlaps itself. */
  private poll(): Promise<void> {
    if (this.polling || this.waiters.size === 0 || this.closed) return this.polling ?? Promise.resolve();
    const ids = [...new Set([...this.waiters].map((w) => w.edgeId))];
    this.polling = this.o.db
      .selectFrom('edge_fleet')
      .select(['edge_id', 'config_version'])
      .where('edge_id', 'in', ids)
      .execute()
      .then((rows) => {
        const current = new Map(rows.map((r) => [r.edge_id, Number(r.config_version)]));
        for (const w of [...this.waiters]) {
          const v = current.get(w.edgeId);
          if (v !== undefined && v !== w.version) w.wake();
        }
      })
      .catch((err: unknown) => this.o.onError?.(err))
      .finally(() => (this.polling = undefined));
    return this.polling;
  }
}
