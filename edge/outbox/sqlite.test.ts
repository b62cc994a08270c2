import t from 'tap';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { item, outboxContract } from './contract.js';
import { SqliteOutbox } from './sqlite.js';

const tempDir = () => mkdtempSync(join(tmpdir(), 'gs-outbox-'));

outboxContract(t, 'sqlite', () => {
  const dir = tempDir();
  return { outbox: SqliteOutbox.open(join(dir, 'edge.db')), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
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
