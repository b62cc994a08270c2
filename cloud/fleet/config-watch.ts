// Long-polls of GET /edges/config wait here for their edge's configuration version to move (the
// shared EdgeVersionWatch; writers call configChanged() in their transaction).
import { sql, type Kysely } from 'kysely';
import { isPostgres } from '../db/dialect.js';
import type { OpenDatabase } from '../db/open.js';
import { EdgeVersionWatch } from '../db/edge-version-watch.js';
import type { Database } from '../db/schema.js';

/** The NOTIFY channel of configuration changes: "some edge's version moved, look". */
export const CONFIG_CHANNEL = 'gridsense_config';

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

export class ConfigWatch extends EdgeVersionWatch {
  constructor(o: ConfigWatchOptions) {
    super({
      ...o,
      channel: CONFIG_CHANNEL,
      read: async (ids) => {
        const rows = await o.db.selectFrom('edge_fleet').select(['edge_id', 'config_version']).where('edge_id', 'in', ids).execute();
        const current = new Map(rows.map((r) => [r.edge_id, Number(r.config_version)]));
        return (edgeId, version) => {
          const v = current.get(edgeId);
          return v !== undefined && v !== version;
        };
      },
    });
  }
}
