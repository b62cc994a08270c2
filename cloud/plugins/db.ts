import type { Kysely } from 'kysely';
import { definePlugin } from './define.js';
import { openDatabase, type DatabaseKind } from '../db/open.js';
import { migrateToLatest } from '../db/migrate.js';
import type { Database } from '../db/schema.js';

declare module 'fastify' {
  interface FastifyInstance {
    db: Kysely<Database>;
    dbKind: DatabaseKind;
  }
}

/** Opens the database, brings its schema up to date, and closes it when the app closes. */
export const dbPlugin = definePlugin<{ url: string }>('gs-db', [], async (app, opts) => {
  const { db, kind, describe } = openDatabase(opts.url);
  try {
    const applied = await migrateToLatest(db);
    app.log.info({ db: describe, migrations: applied }, 'database ready');
  } catch (err) {
    await db.destroy();
    throw err;
  }
  app.decorate('db', db);
  app.decorate('dbKind', kind);
  app.addHook('onClose', async () => {
    await db.destroy();
  });
});
