// Rule state (hold timers in progress, active alarms) as one JSON document in the edge's state
// database — the same SQLite file as the outbox, so the agent commits an alarm and the state that
// raised it in one transaction: after a crash both or neither are there.
import type Database from 'better-sqlite3';

export class RuleStateStore {
  private constructor(
    private readonly get: Database.Statement,
    private readonly put: Database.Statement,
  ) {}

  static in(db: Database.Database): RuleStateStore {
    db.exec('CREATE TABLE IF NOT EXISTS edge_state (name TEXT PRIMARY KEY, json TEXT NOT NULL, updated_at INTEGER NOT NULL)');
    return new RuleStateStore(
      db.prepare("SELECT json FROM edge_state WHERE name = 'rules'"),
      db.prepare("INSERT INTO edge_state (name, json, updated_at) VALUES ('rules', ?, ?) ON CONFLICT(name) DO UPDATE SET json = excluded.json, updated_at = excluded.updated_at"),
    );
  }

  /** The saved JSON text, or undefined on first start. */
  load(): string | undefined {
    return (this.get.get() as { json: string } | undefined)?.json;
  }

  save(json: string, at: number): void {
    this.put.run(json, at);
  }
}
