import type { Kysely } from 'kysely';
import { definePlugin } from './define.js';
import { openDatabase, type DatabaseKind, type OpenDatabase } from '../db/open.js';
import { migrateToLatest } from '../db/migrate.js';
import type { Database } from '../db/schema.js';

declare module 'fastify' {
  interface FastifyInstance {
    db: Kysely<Database>;
    dbKind: DatabaseKind;
    /** PostgreSQL: NOTIFY on a channel, heard on a connection of its own; undefined on SQLite. */
    dbListen: OpenDatabase['listen'];
  }
}

/** Opens the database, brings its schema up to date, and closes it when the app closes. */
export const dbPlugin = definePlugin<{ url: string }>('gs-db', [], async (app, opts) => {
  const { db, kind, describe, listen } = openDatabase(opts.url, { onError: (err) => app.log.warn({ err }, 'an idle database connection failed') });
  try {
    const applied = await migrateToLatest(db);
    app.log.info({ db: describe, migrations: applied }, 'database ready');
  } catch (err) {
    await db.destroy();
    throw err;
  }
  app.decorate('db', db);
  app.decorate('dbKind', kind);
  app.decorate('dbListen', listen);
  app.addHook('onClose', async () => {
    await db.destroy();
  });
});
