import { Migrator, type Kysely } from 'kysely';
import { GsError } from '../../contracts/errors.js';
import { MIGRATIONS } from './migrations/index.js';
import type { Database } from './schema.js';

/** Brings the schema to the latest migration; Kysely's lock makes concurrent starts safe. */
export async function migrateToLatest(db: Kysely<Database>): Promise<string[]> {
  const migrator = new Migrator({ db, provider: { getMigrations: async () => MIGRATIONS } });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new GsError('GS_ERR_INTERNAL', `database migration ${failed} failed: ${(error as Error).message}`, [], { cause: error });
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
