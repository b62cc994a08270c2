// The durable outbox: SQLite in WAL mode with synchronous=FULL, so a put that returned is on disk —
// it survives kill -9 and power loss (SQLite fsyncs the WAL at every commit). Entries leave only when
// the cloud has acked them, alarms (and gap records) before summaries, in seq order within each.
// The quota and its overflow policy are outbox.ts's.
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { systemClock, type Clock } from '../../contracts/clock.js';
import { GsError } from '../../contracts/errors.js';
import type { TelemetrySummary } from '../../contracts/telemetry-summary.js';
import { entrySize, planOverflow, priorityOf, type DeadLetter, type Outbox, type OutboxEntry, type OutboxItem, type OutboxOptions, type OutboxStats } from './outbox.js';

interface Row {
  seq: number;
  key: string;
  kind: OutboxEntry['kind'];
  payload: string;
  created_at: number;
}

/** Opens (creating) the edge's state database with the pragmas durability needs. */
export function openStateDb(file: string): Database.Database {
  mkdirSync(dirname(file), { recursive: true });
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('busy_timeout = 5000');
  return db;
}

function prepare(db: Database.Database) {
  db.exec(`
    CREATE TABLE IF NOT EXISTS outbox (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      key TEXT NOT NULL UNIQUE,
      kind TEXT NOT NULL,
      payload TEXT NOT NULL,
      created_at INTEGER NOT NULL
    );
    CREATE TABLE IF NOT EXISTS outbox_dead_letter (
      seq INTEGER PRIMARY KEY,
      key TEXT NOT NULL,
      kind TEXT NOT NULL,
      payload TEXT NOT NULL,
      created_at INTEGER NOT NULL,
      failed_at INTEGER NOT NULL,
      reason TEXT NOT NULL
    );
  `);
  // Files from before priorities and the quota: add the columns (every old entry is an alarm).
  const columns = new Set((db.prepare('PRAGMA table_info(outbox)').all() as Array<{ name: string }>).map((c) => c.name));
  if (!columns.has('priority')) db.exec('ALTER TABLE outbox ADD COLUMN priority INTEGER NOT NULL DEFAULT 0');
  if (!columns.has('size')) {
    db.exec('ALTER TABLE outbox ADD COLUMN size INTEGER NOT NULL DEFAULT 0');
    db.exec('UPDATE outbox SET size = length(CAST(payload AS BLOB)) + length(CAST(key AS BLOB))');
  }
  db.exec('CREATE INDEX IF NOT EXISTS outbox_priority_seq ON outbox (priority, seq)');
  // AUTOINCREMENT: seqs are never reused, even after the newest entries were acked and deleted.
  const cols = 'seq, key, kind, payload, created_at';
  return {
    put: db.prepare('INSERT OR IGNORE INTO outbox (key, kind, payload, created_at, priority, size) VALUES (?, ?, ?, ?, ?, ?)'),
    peek: db.prepare(`SELECT ${cols} FROM outbox ORDER BY priority, seq LIMIT ?`),
    ack: db.prepare('DELETE FROM outbox WHERE seq = ? RETURNING size'),
    depth: db.prepare('SELECT COUNT(*) AS n FROM outbox'),
    bytes: db.prepare('SELECT COALESCE(SUM(size), 0) AS n FROM outbox'),
    counts: db.prepare("SELECT kind, COUNT(*) AS n, MIN(created_at) AS oldest FROM outbox GROUP BY kind"),
    one: db.prepare(`SELECT ${cols} FROM outbox WHERE seq = ?`),
    summaries: db.prepare("SELECT seq, size, payload FROM outbox WHERE kind = 'summary' ORDER BY seq"),
    dead: db.prepare('INSERT OR REPLACE INTO outbox_dead_letter (seq, key, kind, payload, created_at, failed_at, reason) VALUES (?, ?, ?, ?, ?, ?, ?)'),
    deadAll: db.prepare(`SELECT ${cols}, failed_at, reason FROM outbox_dead_letter ORDER BY seq`),
    deadCount: db.prepare('SELECT COUNT(*) AS n FROM outbox_dead_letter'),
  };
}

export class SqliteOutbox implements Outbox {
  private closed = false;
  /** Bytes of the queued entries, kept in step with every insert and delete (the quota reads it on each put). */
  private bytes: number;
  private droppedSummaries = 0;
  private readonly maxBytes: number;

  private constructor(
    private readonly db: Database.Database,
    private readonly stmts: ReturnType<typeof prepare>,
    private readonly clock: Clock,
    private readonly ownsDb: boolean,
    opts: OutboxOptions,
  ) {
    this.maxBytes = opts.maxBytes ?? Number.MAX_SAFE_INTEGER;
    this.bytes = (stmts.bytes.get() as { n: number }).n;
  }

  /** An outbox on its own file (created if missing); close() closes the file. */
  static open(file: string, clock: Clock = systemClock, opts: OutboxOptions = {}): SqliteOutbox {
    const db = openStateDb(file);
    return new SqliteOutbox(db, prepare(db), clock, true, opts);
  }

  /**
   * An outbox in a database the caller shares and closes: the agent keeps rule state in the same file,
   * so an alarm and the rule state that produced it commit in one transaction.
   */
  static in(db: Database.Database, clock: Clock = systemClock, opts: OutboxOptions = {}): SqliteOutbox {
    return new SqliteOutbox(db, prepare(db), clock, false, opts);
  }

  put(item: OutboxItem): void {
    this.putAll([item]);
  }

  putAll(items: OutboxItem[]): void {
    this.assertOpen();
    const before = this.bytes;
    try {
      this.db.transaction(() => {
        for (const item of items) this.insert(item);
        this.enforceQuota();
      })();
    } catch (err) {
      this.bytes = before; // nothing was committed
      throw err;
    }
  }

  peekBatch(n: number): OutboxEntry[] {
    this.assertOpen();
    return (this.stmts.peek.all(Math.max(0, n)) as Row[]).map(toEntry);
  }

  ack(seqs: number[]): void {
    this.assertOpen();
    this.db.transaction((ids: number[]) => {
      for (const s of ids) this.remove(s);
    })(seqs);
  }

  deadLetter(seq: number, reason: string): void {
    this.assertOpen();
    this.db.transaction(() => {
      const row = this.stmts.one.get(seq) as Row | undefined;
      if (!row) return;
      this.stmts.dead.run(row.seq, row.key, row.kind, row.payload, row.created_at, this.clock.now(), reason);
      this.remove(seq);
    })();
  }

  deadLetters(): DeadLetter[] {
    this.assertOpen();
    return (this.stmts.deadAll.all() as Array<Row & { failed_at: number; reason: string }>).map((r) => ({
      ...toEntry(r),
      failedAt: r.failed_at,
      reason: r.reason,
    }));
  }

  /** How many dead letters there are, without reading them. */
  deadLetterCount(): number {
    this.assertOpen();
    return (this.stmts.deadCount.get() as { n: number }).n;
  }

  depth(): number {
    this.assertOpen();
    return (this.stmts.depth.get() as { n: number }).n;
  }

  stats(): OutboxStats {
    this.assertOpen();
    const by = new Map((this.stmts.counts.all() as Array<{ kind: string; n: number; oldest: number }>).map((r) => [r.kind, r]));
    const n = (k: string) => by.get(k)?.n ?? 0;
    const oldest = by.get('alarm')?.oldest;
    return {
      depth: n('alarm') + n('summary') + n('gap'),
      alarms: n('alarm'),
      summaries: n('summary'),
      gaps: n('gap'),
      bytes: this.bytes,
      maxBytes: this.maxBytes,
      overQuota: this.bytes > this.maxBytes,
      ...(oldest !== undefined && oldest !== null ? { oldestAlarmAt: Number(oldest) } : {}),
      droppedSummaries: this.droppedSummaries,
    };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.ownsDb) this.db.close();
  }

  private insert(item: OutboxItem): void {
    const json = JSON.stringify(item.payload);
    const size = entrySize(item.key, json);
    const r = this.stmts.put.run(item.key, item.kind, json, item.createdAt ?? this.clock.now(), priorityOf(item.kind), size);
    if (r.changes > 0) this.bytes += size;
  }

  private remove(seq: number): void {
    const gone = this.stmts.ack.get(seq) as { size: number } | undefined;
    if (gone) this.bytes -= gone.size;
  }

  /** Inside putAll's transaction: drop the oldest summaries if over the quota, and queue the gap record. */
  private enforceQuota(): void {
    if (this.bytes <= this.maxBytes) return;
    const rows = this.stmts.summaries.iterate() as IterableIterator<{ seq: number; size: number; payload: string }>;
    const summaries = (function* () {
      for (const r of rows) yield { seq: r.seq, size: r.size, payload: JSON.parse(r.payload) as TelemetrySummary };
    })();
    const plan = planOverflow(summaries, this.bytes, this.maxBytes, this.clock.now());
    rows.return?.(); // planOverflow may stop early; close the statement's cursor
    if (!plan.gap) return;
    for (const seq of plan.drop) this.remove(seq);
    this.droppedSummaries += plan.drop.length;
    this.insert({ key: plan.gap.id, kind: 'gap', payload: plan.gap, createdAt: plan.gap.at });
  }

  private assertOpen(): void {
    if (this.closed) throw new GsError('GS_ERR_OUTBOX_CLOSED');
  }
}

function toEntry(r: Row): OutboxEntry {
  return { seq: r.seq, key: r.key, kind: r.kind, payload: JSON.parse(r.payload), createdAt: r.created_at } as OutboxEntry;
}
