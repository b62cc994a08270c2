// The durable outbox: SQLite in WAL mode with synchronous=FULL, so a put that returned is on disk —
// it survives kill -9 and power loss (SQLite fsyncs the WAL at every commit). Entries leave only when
// the cloud has acked them, in seq order.
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { systemClock, type Clock } from '../../contracts/clock.js';
import { GsError } from '../../contracts/errors.js';
import type { AlarmEnvelope as Envelope } from '../../contracts/alarm.js';
import type { DeadLetter, Outbox, OutboxEntry, OutboxItem } from './outbox.js';

interface Row {
  seq: number;
  key: string;
  kind: 'alarm';
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
  // AUTOINCREMENT: seqs are never reused, even after the newest entries were acked and deleted.
  return {
    put: db.prepare('INSERT OR IGNORE INTO outbox (key, kind, payload, created_at) VALUES (?, ?, ?, ?)'),
    peek: db.prepare('SELECT seq, key, kind, payload, created_at FROM outbox ORDER BY seq LIMIT ?'),
    ack: db.prepare('DELETE FROM outbox WHERE seq = ?'),
    depth: db.prepare('SELECT COUNT(*) AS n FROM outbox'),
    one: db.prepare('SELECT seq, key, kind, payload, created_at FROM outbox WHERE seq = ?'),
    dead: db.prepare('INSERT OR REPLACE INTO outbox_dead_letter (seq, key, kind, payload, created_at, failed_at, reason) VALUES (?, ?, ?, ?, ?, ?, ?)'),
    deadAll: db.prepare('SELECT seq, key, kind, payload, created_at, failed_at, reason FROM outbox_dead_letter ORDER BY seq'),
  };
}

export class SqliteOutbox implements Outbox {
  private closed = false;

  private constructor(
    private readonly db: Database.Database,
    private readonly stmts: ReturnType<typeof prepare>,
    private readonly clock: Clock,
    private readonly ownsDb: boolean,
  ) {}

  /** An outbox on its own file (created if missing); close() closes the file. */
  static open(file: string, clock: Clock = systemClock): SqliteOutbox {
    const db = openStateDb(file);
    return new SqliteOutbox(db, prepare(db), clock, true);
  }

  /**
   * An outbox in a database the caller shares and closes: the agent keeps rule state in the same file,
   * so an alarm and the rule state that produced it commit in one transaction.
   */
  static in(db: Database.Database, clock: Clock = systemClock): SqliteOutbox {
    return new SqliteOutbox(db, prepare(db), clock, false);
  }

  put(item: OutboxItem): void {
    this.assertOpen();
    this.stmts.put.run(item.key, item.kind, JSON.stringify(item.payload), item.createdAt ?? this.clock.now());
  }

  peekBatch(n: number): OutboxEntry[] {
    this.assertOpen();
    return (this.stmts.peek.all(Math.max(0, n)) as Row[]).map(toEntry);
  }

  ack(seqs: number[]): void {
    this.assertOpen();
    this.db.transaction((ids: number[]) => {
      for (const s of ids) this.stmts.ack.run(s);
    })(seqs);
  }

  deadLetter(seq: number, reason: string): void {
    this.assertOpen();
    this.db.transaction(() => {
      const row = this.stmts.one.get(seq) as Row | undefined;
      if (!row) return;
      this.stmts.dead.run(row.seq, row.key, row.kind, row.payload, row.created_at, this.clock.now(), reason);
      this.stmts.ack.run(seq);
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

  depth(): number {
    this.assertOpen();
    return (this.stmts.depth.get() as { n: number }).n;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.ownsDb) this.db.close();
  }

  private assertOpen(): void {
    if (this.closed) throw new GsError('GS_ERR_OUTBOX_CLOSED');
  }
}

function toEntry(r: Row): OutboxEntry {
  return { seq: r.seq, key: r.key, kind: r.kind, payload: JSON.parse(r.payload) as Envelope, createdAt: r.created_at };
}
