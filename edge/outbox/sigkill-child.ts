// Child process for sqlite.test.ts: puts items one by one into the outbox at argv[2] and prints
// "ACK <key>" after each put returns — a put the parent saw acknowledged must survive the SIGKILL
// the parent sends at some point.
import { SqliteOutbox } from './sqlite.js';
import { item } from './contract.js';

const outbox = SqliteOutbox.open(process.argv[2]!);
for (let i = 0; ; i++) {
  const it = item(i);
  outbox.put(it);
  process.stdout.write(`ACK ${it.key}\n`);
  if (i % 50 === 49) await new Promise((r) => setImmediate(r)); // let the parent's signal land mid-run
}
