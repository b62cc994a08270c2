import { Migrator, sql, type Kysely } from 'kysely';
import { GsError } from '../../contracts/errors.js';
import { isPostgres } from './dialect.js';
import { MIGRATIONS } from './migrations/index.js';
import type { Database } from './schema.js';

/** Brings the schema to the latest migration; Kysely's lock makes concurrent starts safe. */
export async function migrateToLatest(db: Kysely<Database>): Promise<string[]> {
  const migrator = new Migrator({ db, provider: { getMigrations: async () => MIGRATIONS }, ...(await migrationSchema(db)) });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new GsError('GS_ERR_INTERNAL', `database migration ${failed} failed: ${(error as Error).message}`, [], { cause: error });
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/**
 * On PostgreSQL the tables go to the first schema of the search_path (the URL may choose one with
 * `options=-c search_path=…`). Kysely looks for its migration table in every schema unless told
 * which, so it is told: several gridsense databases may live side by side in one PostgreSQL database.
 */
async function migrationSchema(db: Kysely<Database>): Promise<{ migrationTableSchema?: string }> {
  if (!isPostgres(db)) return {};
  const { rows } = await sql<{ schema: string | null }>`select current_schema() as schema`.execute(db);
  const schema = rows[0]?.schema;
  if (!schema) {
    throw new GsError('GS_ERR_CONFIG_INVALID', 'no schema of the PostgreSQL search_path exists: create it, or fix options=-c search_path=… in GRIDSENSE_DB', [
      { path: 'db', message: 'current_schema() is null' },
    ]);
  }
  return { migrationTableSchema: schema };
}
