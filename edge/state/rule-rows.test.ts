// The per-key rule state store on a real SQLite file: rows written are exactly the changes, an older
// edge's whole document is moved into rows once, unreadable rows are reported and skipped, and the
// health / flow documents in edge_state are left alone.
import t, { type Test } from 'tap';
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStateDb } from '../outbox/sqlite.js';
import { RuleStateStore } from './rule-state.js';
import { RuleStateRows } from './rule-rows.js';

function dbFile(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'gs-rule-rows-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'edge.db');
}
const rows = (db: Database.Database) => Object.fromEntries((db.prepare('SELECT key, json FROM rule_state ORDER BY key').all() as Array<{ key: string; json: string }>).map((r) => [r.key, r.json]));

t.test('writes only the given rows; `all` replaces every row', async (t) => {
  const db = openStateDb(dbFile(t));
  t.teardown(() => db.close());
  const store = RuleStateRows.in(db);
  t.same(store.load(), { state: {}, unreadable: [], migrated: false }, 'a fresh file has nothing');
  t.equal(store.write({ all: false, set: new Map([['r|a', '{"x":1}'], ['r|b', '{"x":2}'], ['r|@yard', '{"m":[]}']]), deleted: [] }, 1), 3);
  t.equal(store.write({ all: false, set: new Map([['r|a', '{"x":3}']]), deleted: ['r|b', 'r|never'] }, 2), 2, 'one upsert, one delete; deleting an absent key writes nothing');
  t.same(rows(db), { 'r|@yard': '{"m":[]}', 'r|a': '{"x":3}' });
  t.same(store.load().state, { 'r|@yard': { m: [] }, 'r|a': { x: 3 } });
  store.write({ all: true, set: new Map([['r|c', '{"y":1}']]), deleted: [] }, 3);
  t.same(rows(db), { 'r|c': '{"y":1}' }, 'a full rewrite leaves no stale row behind');
});

t.test('an older edge\'s whole document is migrated to rows once; other documents stay', async (t) => {
  const file = dbFile(t);
  const old = openStateDb(file);
  // As the old agent left it: RuleStateStore 'rules' beside the health document.
  RuleStateStore.in(old).save(JSON.stringify({ 'wl-warning|wl-1': { since: 5, lv: 3.9 }, 'fire|@yard': { a: true } }), 42);
  RuleStateStore.in(old, 'health').save('{"devices":{}}', 42);
  old.close();

  const db = openStateDb(file);
  t.teardown(() => db.close());
  const first = RuleStateRows.in(db).load();
  t.same(first, { state: { 'wl-warning|wl-1': { since: 5, lv: 3.9 }, 'fire|@yard': { a: true } }, unreadable: [], migrated: true });
  t.same(rows(db), { 'fire|@yard': '{"a":true}', 'wl-warning|wl-1': '{"since":5,"lv":3.9}' });
  t.equal(RuleStateStore.in(db).load(), undefined, 'the document is gone, so it is not read again over newer rows');
  t.equal(RuleStateStore.in(db, 'health').load(), '{"devices":{}}', 'health is untouched');
  const second = RuleStateRows.in(db).load();
  t.same(second, { ...first, migrated: false }, 'the second start reads the rows');
});

t.test('unreadable rows and documents are reported and skipped, not fatal', async (t) => {
  const db = openStateDb(dbFile(t));
  t.teardown(() => db.close());
  const store = RuleStateRows.in(db);
  store.write({ all: false, set: new Map([['r|ok', '{"x":1}'], ['r|bad', '{"x":'], ['r|arr', '[1]']]), deleted: [] }, 1);
  RuleStateStore.in(db).save('not json', 1);
  const got = store.load();
  t.same(got.state, { 'r|ok': { x: 1 } });
  t.same(got.unreadable.map((u) => u.key).sort(), ['edge_state/rules', 'r|arr', 'r|bad']);
  t.equal(RuleStateStore.in(db).load(), undefined, 'the unreadable document is dropped once, as the old agent overwrote it');
});
