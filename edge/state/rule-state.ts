// Rule state (hold timers in progress, active alarms) and device health as JSON documents in the edge's state
// database — the same SQLite file as the outbox, so the agent commits an alarm and the state that
// raised it in one transaction: after a crash both or neither are there.
import type Database from 'better-sqlite3';

export class RuleStateStore {
  private constructor(
    private readonly get: Database.Statement,
    private readonly put: Database.Statement,
    private readonly name: string,
  ) {}

  /** `name` keeps documents apart: 'rules' for the rule engine, 'health' for device health. */
  static in(db: Database.Database, name = 'rules'): RuleStateStore {
    db.exec('CREATE TABLE IF NOT EXISTS edge_state (name TEXT PRIMARY KEY, json TEXT NOT NULL, updated_at INTEGER NOT NULL)');
    const get = db.prepare('SELECT json FROM edge_state WHERE name = ?').bind(name);
    const put = db.prepare('INSERT INTO edge_state (name, json, updated_at) VALUES (@name, @json, @at) ON CONFLICT(name) DO UPDATE SET json = excluded.json, updated_at = excluded.updated_at');
    return new RuleStateStore(get, put, name);
  }

  /** The saved JSON text, or undefined on first start. */
  load(): string | undefined {
    return (this.get.get() as { json: string } | undefined)?.json;
  }

  save(json: string, at: number): void {
    this.put.run({ name: this.name, json, at });
  }
}
