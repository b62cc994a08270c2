import { PostgresAdapter, type Kysely } from 'kysely';

/** Migrations that need a dialect's own type (an auto-increment key) ask this. */
export function isPostgres<DB>(db: Kysely<DB>): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter;
}
