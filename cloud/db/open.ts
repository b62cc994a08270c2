import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, SqliteDialect, type SqliteDatabase, type SqliteStatement } from 'kysely';
import pg from 'pg';
import { GsError } from '../../contracts/errors.js';
import { CurrentSchemaPostgresDialect } from './pg-introspector.js';
import type { Database } from './schema.js';

export type DatabaseKind = 'sqlite' | 'postgres';

/** Stops listening and closes the listening connection. */
export type Unlisten = () => Promise<void>;

export interface OpenDatabase {
  kind: DatabaseKind;
  db: Kysely<Database>;
  /** Where it is, for logs (no credentials). */
  describe: string;
  /** PostgreSQL: the pool's most connections; undefined on SQLite (one connection). */
  poolSize?: number;
  /**
   * PostgreSQL only: hear NOTIFY on `channel` on a connection of its own (other instances' writes,
   * at once). Reconnects by itself after a loss; `onError` hears of the loss, `onNotify` is also
   * called after a reconnect, since notifications sent meanwhile were lost.
   */
  listen?: (channel: string, onNotify: () => void, onError: (err: unknown) => void) => Promise<Unlisten>;
}

export interface OpenOptions {
  /** An idle pooled PostgreSQL connection failed (server restart, network): the next query reconnects. */
  onError?: (err: unknown) => void;
  /**
   * PostgreSQL: most connections the pool opens; default env GRIDSENSE_DB_POOL, else 10 (pg's own
   * default). Every cloud instance holds up to this many, so instances × pool must stay under the
   * server's max_connections (100 by default) with room for LISTEN connections and admin tools.
   */
  poolSize?: number;
}

export const DEFAULT_POOL_SIZE = 10;
/** More would only queue inside PostgreSQL: it runs about one query per core at a time anyway. */
export const MAX_POOL_SIZE = 1000;

/** The pool size: given, else GRIDSENSE_DB_POOL, else the default; a whole number from 1 to MAX_POOL_SIZE. */
export function poolSizeOf(given: number | undefined, env: NodeJS.ProcessEnv = process.env): number {
  const raw = given ?? (env.GRIDSENSE_DB_POOL?.trim() ? Number(env.GRIDSENSE_DB_POOL) : DEFAULT_POOL_SIZE);
  if (!Number.isInteger(raw) || raw < 1 || raw > MAX_POOL_SIZE) {
    throw new GsError('GS_ERR_CONFIG_INVALID', `the PostgreSQL pool size must be a whole number from 1 to ${MAX_POOL_SIZE}`, [
      { path: given !== undefined ? 'poolSize' : 'GRIDSENSE_DB_POOL', message: `got ${String(given ?? env.GRIDSENSE_DB_POOL)}` },
    ]);
  }
  return raw;
}

const POSTGRES_URL = /^postgres(ql)?:\/\//i;

/**
 * The one place that knows which database a URL means: a SQLite file path (or `sqlite:`/`file:` URL,
 * or `:memory:`), or a `postgres://` / `postgresql://` URL (Kysely's PostgresDialect over a `pg`
 * pool). Everything above this function speaks Kysely only.
 */
export function openDatabase(url: string, opts: OpenOptions = {}): OpenDatabase {
  return POSTGRES_URL.test(url) ? openPostgres(url, opts) : openSqlite(url);
}

function openSqlite(url: string): OpenDatabase {
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

/**
 * Timestamps are ms since the epoch in BIGINT columns, and COUNT/SUM are bigint: pg hands int8 over
 * as a string (it may not fit a double), NUMERIC (AVG) too. Every such value here is far below 2^53,
 * so numbers they are — set on this pool only, not on pg's global parsers.
 */
export function postgresTypes(): pg.TypeOverrides {
  const types = new pg.TypeOverrides();
  types.setTypeParser(pg.types.builtins.INT8, (v: string) => Number(v));
  types.setTypeParser(pg.types.builtins.NUMERIC, (v: string) => Number(v));
  return types;
}

function openPostgres(url: string, opts: OpenOptions): OpenDatabase {
  let describe: string;
  try {
    describe = describePostgres(url);
  } catch {
    throw new GsError('GS_ERR_CONFIG_INVALID', 'the PostgreSQL URL is not valid', [{ path: 'db', message: 'expected postgres://user[:password]@host[:port]/database' }]);
  }
  const max = poolSizeOf(opts.poolSize);
  const config: pg.PoolConfig = { connectionString: url, types: postgresTypes(), application_name: 'gridsense', max };
  const pool = new pg.Pool(config);
  // Without a listener an idle connection's error (a server restart) would crash the process.
  pool.on('error', (err) => opts.onError?.(err));
  return {
    kind: 'postgres',
    db: new Kysely<Database>({ dialect: new CurrentSchemaPostgresDialect({ pool }) }),
    describe,
    poolSize: max,
    listen: (channel, onNotify, onError) => listenPostgres(config, channel, onNotify, onError),
  };
}

/** The URL without password or other secrets: user, host, port, database, and the options (search_path). */
export function describePostgres(url: string): string {
  const u = new URL(url);
  const keep = new URLSearchParams();
  for (const k of ['host', 'options', 'sslmode']) {
    const v = u.searchParams.get(k);
    if (v !== null) keep.set(k, v);
  }
  const user = u.username ? `${u.username}@` : '';
  const query = keep.size > 0 ? `?${keep.toString()}` : '';
  return `postgres://${user}${u.host}${u.pathname}${query}`;
}

const RECONNECT_MIN_MS = 500;
const RECONNECT_MAX_MS = 30_000;

/** A dedicated client (LISTEN holds its connection), reconnecting with backoff until unlistened. */
async function listenPostgres(config: pg.ClientConfig, channel: string, onNotify: () => void, onError: (err: unknown) => void): Promise<Unlisten> {
  let client: pg.Client | undefined;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let delay = RECONNECT_MIN_MS;

  const connect = async (): Promise<void> => {
    const c = new pg.Client(config);
    c.on('notification', (n) => {
      if (n.channel === channel) onNotify();
    });
    const lost = (err: unknown): void => {
      if (client !== c) return;
      client = undefined;
      onError(err);
      void c.end().catch(() => undefined);
      retry();
    };
    c.on('error', lost);
    c.on('end', () => lost(new Error(`the connection listening on ${channel} ended`)));
    await c.connect();
    try {
      await c.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
    } catch (err) {
      await c.end().catch(() => undefined);
      throw err;
    }
    if (stopped) {
      await c.end().catch(() => undefined);
      return;
    }
    client = c;
    delay = RECONNECT_MIN_MS;
  };

  const retry = (): void => {
    if (stopped) return;
    timer = setTimeout(() => {
      timer = undefined;
      connect()
        .then(() => onNotify()) // notifications sent while away are lost: look once
        .catch((err: unknown) => {
          onError(err);
          delay = Math.min(delay * 2, RECONNECT_MAX_MS);
          retry();
        });
    }, delay);
    timer.unref();
  };

  await connect();
  return async () => {
    stopped = true;
    if (timer) clearTimeout(timer);
    const c = client;
    client = undefined;
    await c?.end().catch(() => undefined);
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
