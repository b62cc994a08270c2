// Rule state as one row per state key ("<rule id>|<device id>" or "<rule id>|@<site>") in the edge's
// state database — the same SQLite file as the outbox, so the agent commits an alarm and the rows
// that raised it in one transaction (after a crash both or neither are there), and a reading writes
// only the rows it changed instead of the whole document (which grew with the device count).
// Older edges kept the whole state as one JSON document in edge_state ('rules'); load() moves it into
// rows once. Health and Node-RED flow state stay documents (RuleStateStore).
import type Database from 'better-sqlite3';

/** What load() found. */
export interface SavedRuleRows {
  /** Parsed entries by key, ready for RuleEngine.importState. */
  state: Record<string, unknown>;
  /** Rows (or a legacy document) that could not be read and were skipped, with why. */
  unreadable: Array<{ key: string; reason: string }>;
  /** The old whole-document state was found and moved into rows by this load. */
  migrated: boolean;
}

/** Rows to write: JSON text by key, keys to delete, and whether to drop every other row first. */
export interface RuleRowChanges {
  all: boolean;
  set: Map<string, string>;
  deleted: readonly string[];
}

const LEGACY_NAME = 'rules';

export class RuleStateRows {
  private constructor(
    private readonly db: Database.Database,
    private readonly sql: {
      all: Database.Statement;
      upsert: Database.Statement;
      del: Database.Statement;
      clear: Database.Statement;
      legacyGet: Database.Statement;
      legacyDel: Database.Statement;
    },
  ) {}

  static in(db: Database.Database): RuleStateRows {
    db.exec('CREATE TABLE IF NOT EXISTS rule_state (key TEXT PRIMARY KEY, json TEXT NOT NULL, updated_at INTEGER NOT NULL) WITHOUT ROWID');
    // The legacy table may not exist in a fresh file; it is where older edges left their document.
    db.exec('CREATE TABLE IF NOT EXISTS edge_state (name TEXT PRIMARY KEY, json TEXT NOT NULL, updated_at INTEGER NOT NULL)');
    return new RuleStateRows(db, {
      all: db.prepare('SELECT key, json FROM rule_state'),
      upsert: db.prepare('INSERT INTO rule_state (key, json, updated_at) VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE SET json = excluded.json, updated_at = excluded.updated_at'),
      del: db.prepare('DELETE FROM rule_state WHERE key = ?'),
      clear: db.prepare('DELETE FROM rule_state'),
      legacyGet: db.prepare('SELECT json, updated_at AS at FROM edge_state WHERE name = ?'),
      legacyDel: db.prepare('DELETE FROM edge_state WHERE name = ?'),
    });
  }

  /**
   * Every saved entry. A legacy document is moved into rows first (one transaction: rows in, document
   * out), so it is read once; an unreadable one is dropped and reported, as an unreadable row is.
   */
  load(): SavedRuleRows {
    const unreadable: SavedRuleRows['unreadable'] = [];
    const migrated = this.db.transaction(() => {
      const legacy = this.sql.legacyGet.get(LEGACY_NAME) as { json: string; at: number } | undefined;
      if (!legacy) return false;
      let doc: unknown;
      try {
        doc = JSON.parse(legacy.json);
      } catch (err) {
        doc = undefined;
        unreadable.push({ key: `edge_state/${LEGACY_NAME}`, reason: `not JSON: ${(err as Error).message}` });
      }
      if (doc !== undefined && (doc === null || typeof doc !== 'object' || Array.isArray(doc))) {
        unreadable.push({ key: `edge_state/${LEGACY_NAME}`, reason: 'not an object keyed by state key' });
      } else if (doc !== undefined) {
        // The document is the newer truth only if it is there at all: rows and document never coexist
        // except after a downgrade and upgrade, when the document was written last.
        this.sql.clear.run();
        for (const [key, value] of Object.entries(doc as Record<string, unknown>)) this.sql.upsert.run(key, JSON.stringify(value), legacy.at);
      }
      this.sql.legacyDel.run(LEGACY_NAME);
      return true;
    })();
    const state: Record<string, unknown> = {};
    for (const row of this.sql.all.iterate() as Iterable<{ key: string; json: string }>) {
      try {
        const value: unknown = JSON.parse(row.json);
        if (value === null || typeof value !== 'object' || Array.isArray(value)) unreadable.push({ key: row.key, reason: 'not a JSON object' });
        else state[row.key] = value;
      } catch (err) {
        unreadable.push({ key: row.key, reason: `not JSON: ${(err as Error).message}` });
      }
    }
    return { state, unreadable, migrated };
  }

  /**
   * Writes the changes; returns how many rows it wrote or deleted. Runs inside the caller's
   * transaction (the agent's, with the alarms) — it opens none of its own.
   */
  write(changes: RuleRowChanges, at: number): number {
    let n = 0;
    if (changes.all) this.sql.clear.run();
    for (const key of changes.deleted) n += this.sql.del.run(key).changes;
    for (const [key, json] of changes.set) n += this.sql.upsert.run(key, json, at).changes;
    return n;
  }
}
