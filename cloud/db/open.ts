import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, SqliteDialect, type SqliteDatabase, type SqliteStatement } from 'kysely';
import { GsError } from '../../contracts/errors.js';
import type { Database } from './schema.js';

export type DatabaseKind = 'sqlite' | 'postgres';

export interface OpenDatabase {
  kind: DatabaseKind;
  db: Kysely<Database>;
  /** Where it is, for logs (no credentials). */
  describe: string;
}

/**
 * The one place that knows which database a URL means. Today: a SQLite file path (or `sqlite:`/`file:`
 * URL, or `:memory:`). PostgreSQL (`postgres://…`) slots in here with Kysely's PostgresDialect + `pg`;
 * everything above this function speaks Kysely only.
 */
export function openDatabase(url: string): OpenDatabase {
  if (/^postgres(ql)?:\/\//i.test(url)) {
    throw new GsError('GS_ERR_CONFIG_INVALID', 'PostgreSQL is not supported yet: give GRIDSENSE_DB a SQLite file path', [
      { path: 'db', message: 'postgres:// URLs arrive with the PostgreSQL backend' },
    ]);
  }
  const file = url.replace(/^(sqlite|file):(\/\/)?/i, '');
  if (file === '') throw new GsError('GS_ERR_CONFIG_INVALID', 'database path is empty', [{ path: 'db', message: 'is empty' }]);
  const memory = file === ':memory:';
  if (!memory) mkdirSync(dirname(resolve(file)), { recursive: true });
  const sqlite = new SQLite(file);
  try {
    // WAL lets readers run beside the writer. synchronous=FULL because a 200 to an edge means "stored":
    // the edge then drops the alarm from its outbox, so a commit must survive a power cut.
    if (!memory) sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = FULL');
    sqlite.pragma('foreign_keys = ON');
    sqlite.pragma('busy_timeout = 5000');
  } catch (err) {
    sqlite.close();
    throw err;
  }
  return {
    kind: 'sqlite',
    db: new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) }),
    describe: memory ? 'sqlite::memory:' : `sqlite:${resolve(file)}`,
  };
}

/** Enough for every distinct statement the cloud issues (multi-row inserts vary by row count). */
const STATEMENT_CACHE_SIZE = 500;

/**
 * Kysely's SQLite driver prepares every query afresh, and preparing costs more than running a small
 * indexed query; ingest issues a handful per alarm. better-sqlite3 statements are reusable, so keep
 * the most recent ones by SQL text (least recently used dropped first).
 */
function withStatementCache(sqlite: SQLite.Database): SqliteDatabase {
  const cache = new Map<string, SqliteStatement>();
  return {
    close: () => {
      cache.clear();
      sqlite.close();
    },
    prepare: (sql: string) => {
      let stmt = cache.get(sql);
      if (stmt) {
        cache.delete(sql); // re-insert below: Map order is recency order
      } else {
        stmt = sqlite.prepare(sql) as unknown as SqliteStatement;
        if (cache.size >= STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value!);
      }
      cache.set(sql, stmt);
      return stmt;
    },
  };
}
