import t from 'tap';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { item, outboxContract, summary } from './contract.js';
import { SqliteOutbox } from './sqlite.js';

const tempDir = () => mkdtempSync(join(tmpdir(), 'gs-outbox-'));

outboxContract(t, 'sqlite', (opts) => {
  const dir = tempDir();
  return { outbox: SqliteOutbox.open(join(dir, 'edge.db'), undefined, opts), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
});

t.test('entries, order and dead letters survive closing and reopening the file', async (t) => {
  const dir = tempDir();
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'edge.db');
  const first = SqliteOutbox.open(file);
  for (let i = 0; i < 5; i++) first.put(item(i));
  const [a, b] = first.peekBatch(2);
  first.ack([a!.seq]);
  first.deadLetter(b!.seq, 'poison');
  const before = first.peekBatch(10);
  first.close();

  const second = SqliteOutbox.open(file);
  t.teardown(() => second.close());
  t.same(second.peekBatch(10), before, 'same entries, same order, same seqs');
  t.equal(second.deadLetters()[0]?.key, b!.key);
  second.put(item(2));
  t.equal(second.depth(), 3, 'idempotency holds across reopen');
  second.put(item(7));
  t.ok(second.peekBatch(10).at(-1)!.seq > before.at(-1)!.seq, 'seqs keep increasing after reopen');
});

t.test('every put the child saw return survives a SIGKILL', async (t) => {
  const dir = tempDir();
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'edge.db');
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./sigkill-child.ts', import.meta.url)), file], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const acked: string[] = [];
  await new Promise<void>((resolve, reject) => {
    let buf = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      buf += chunk.toString();
      const lines = buf.split('\n');
      buf = lines.pop()!;
      for (const l of lines) if (l.startsWith('ACK ')) acked.push(l.slice(4));
      if (acked.length >= 300 && child.exitCode === null && !child.killed) child.kill('SIGKILL');
    });
    child.once('exit', (code, signal) => (signal === 'SIGKILL' ? resolve() : reject(new Error(`child exited with ${code}`))));
  });
  t.ok(acked.length >= 300, `${acked.length} puts acknowledged before the kill`);
  const outbox = SqliteOutbox.open(file);
  t.teardown(() => outbox.close());
  const stored = new Set(outbox.peekBatch(1_000_000).map((e) => e.key));
  const lost = acked.filter((k) => !stored.has(k));
  t.same(lost, [], 'no acknowledged put was lost');
  t.ok(stored.size >= acked.length, 'the file holds at least what was acknowledged (a put may land just before its ACK line)');
});

t.test('a file from before priorities and the quota is upgraded in place: its alarms stay, in order, counted', async (t) => {
  const dir = tempDir();
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'edge.db');
  const old = new Database(file);
  old.exec('CREATE TABLE outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL UNIQUE, kind TEXT NOT NULL, payload TEXT NOT NULL, created_at INTEGER NOT NULL)');
  const ins = old.prepare('INSERT INTO outbox (key, kind, payload, created_at) VALUES (?, ?, ?, ?)');
  for (const i of [0, 1]) ins.run(item(i).key, 'alarm', JSON.stringify(item(i).payload), item(i).createdAt);
  old.close();
  const outbox = SqliteOutbox.open(file);
  t.teardown(() => outbox.close());
  outbox.put(summary(0));
  outbox.put(item(2));
  t.same(outbox.peekBatch(10).map((e) => e.key), [item(0).key, item(1).key, item(2).key, summary(0).key], 'old alarms first, then the new alarm, then the summary');
  const bytes = [item(0), item(1), item(2), summary(0)].reduce((n, i) => n + Buffer.byteLength(JSON.stringify(i.payload)) + i.key.length, 0);
  t.equal(outbox.stats().bytes, bytes, 'old entries are counted by the quota');
});
