// The outbox: (1) what a durable put costs per alarm — SqliteOutbox (WAL, synchronous=FULL, the quota's
// byte count kept with every insert) against its anchor, a bare better-sqlite3 INSERT of the same
// payload into a one-table file with the same pragmas, one alarm per transaction and 100 per
// transaction; (2) the replay after a 10,000-alarm outage: the real uplink draining a full outbox into
// the real cloud (SQLite, sample county grids) over loopback HTTP, unpaced (what the pair can do) and
// paced by replayRatePerS (what a county gets from one edge coming back).
//
//   npx tsx bench/outbox.ts            (BENCH_SECONDS=5 per write row; OUTAGE=10000; RATE=500)
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { startCloud } from '../cloud/server.js';
import { systemClock } from '../contracts/clock.js';
import { silentLogger } from '../edge/log.js';
import { alarmKey, type OutboxItem } from '../edge/outbox/outbox.js';
import { openStateDb, SqliteOutbox } from '../edge/outbox/sqlite.js';
import { systemScheduler } from '../edge/scheduler.js';
import { Uplink } from '../edge/uplink.js';
import { SECONDS, fmt, freshAlarms, table } from './_lib.js';

const OUTAGE = Number(process.env.OUTAGE ?? 10_000);
const RATE = Number(process.env.RATE ?? 500);
const ADMIN = 'gsa_bench-admin-token';
const dir = mkdtempSync(join(tmpdir(), 'gridsense-bench-outbox-'));

const items = (n: number): OutboxItem[] =>
  freshAlarms(n).map((a) => {
    const payload = a as unknown as Extract<OutboxItem, { kind: 'alarm' }>['payload'];
    return { key: alarmKey(payload), kind: 'alarm', payload, createdAt: payload.ts };
  });

/** Calls `put(batch)` back to back for SECONDS; µs per alarm. */
function timeWrites(perCall: number, put: (batch: OutboxItem[]) => void): { usPerAlarm: number; alarms: number } {
  const pool = items(perCall * 200);
  let n = 0;
  const start = performance.now();
  const end = start + SECONDS * 1000;
  while (performance.now() < end) {
    const from = (n / perCall) % 200;
    put(pool.slice(from * perCall, from * perCall + perCall).map((i) => ({ ...i, key: `${i.key}-${n}` })));
    n += perCall;
  }
  return { usPerAlarm: ((performance.now() - start) * 1000) / n, alarms: n };
}

function bare(file: string) {
  const db = openStateDb(file); // same pragmas: WAL, synchronous=FULL
  db.exec('CREATE TABLE q (seq INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL UNIQUE, kind TEXT NOT NULL, payload TEXT NOT NULL, created_at INTEGER NOT NULL)');
  const ins = db.prepare('INSERT INTO q (key, kind, payload, created_at) VALUES (?, ?, ?, ?)');
  const many = db.transaction((batch: OutboxItem[]) => {
    for (const i of batch) ins.run(i.key, i.kind, JSON.stringify(i.payload), i.createdAt);
  });
  return { db, put: (batch: OutboxItem[]) => (batch.length === 1 ? ins.run(batch[0]!.key, 'alarm', JSON.stringify(batch[0]!.payload), batch[0]!.createdAt) : many(batch)) };
}

async function replay(cloudUrl: string, token: string, rate?: number): Promise<{ seconds: number; perSecond: number; maxInOneSecond: number }> {
  const outbox = SqliteOutbox.open(join(dir, `replay-${rate ?? 'unpaced'}.db`));
  outbox.putAll(items(OUTAGE)); // what piled up during the outage
  const perSecond = new Map<number, number>();
  const start = performance.now();
  const counting: typeof fetch = async (url, init) => {
    const res = await fetch(url, init);
    if (res.ok) {
      const s = Math.floor((performance.now() - start) / 1000);
      perSecond.set(s, (perSecond.get(s) ?? 0) + (JSON.parse(String(init?.body)) as { alarms: unknown[] }).alarms.length);
    }
    return res;
  };
  const uplink = new Uplink({
    url: cloudUrl, token, batchSize: 100, outbox, scheduler: systemScheduler, clock: systemClock, random: Math.random, logger: silentLogger(), fetch: counting,
    ...(rate !== undefined ? { replayRatePerS: rate } : {}),
  });
  uplink.start();
  while (outbox.depth() > 0) await new Promise((r) => setTimeout(r, 20));
  const seconds = (performance.now() - start) / 1000;
  await uplink.stop();
  outbox.close();
  // The last second is partial; the busiest full one tells whether pacing held.
  return { seconds, perSecond: OUTAGE / seconds, maxInOneSecond: Math.max(...perSecond.values()) };
}

const cloud = await startCloud({ port: 0, host: '127.0.0.1', db: join(dir, 'cloud.db'), adminToken: ADMIN, logger: false });
try {
  const b = bare(join(dir, 'bare.db'));
  const o = SqliteOutbox.open(join(dir, 'outbox.db'), systemClock, { maxBytes: 256 * 1024 * 1024 });
  const rows: Array<[string, { usPerAlarm: number; alarms: number }]> = [
    ['anchor: bare better-sqlite3 INSERT, 1 per transaction', timeWrites(1, b.put)],
    ['SqliteOutbox.put, 1 per transaction', timeWrites(1, (batch) => o.put(batch[0]!))],
    ['anchor: bare better-sqlite3 INSERT, 100 per transaction', timeWrites(100, b.put)],
    ['SqliteOutbox.putAll, 100 per transaction', timeWrites(100, (batch) => o.putAll(batch))],
  ];
  b.db.close();
  o.close();

  const admin = { 'content-type': 'application/json', authorization: `Bearer ${ADMIN}` };
  await fetch(`${cloud.url}/api/v1/grids/import`, { method: 'POST', headers: admin, body: readFileSync(new URL('../demo/sample-county.geojson', import.meta.url), 'utf8') });
  const edge = (await (await fetch(`${cloud.url}/api/v1/edges`, { method: 'POST', headers: admin, body: JSON.stringify({ id: 'bench-edge', name: 'bench' }) })).json()) as { token: string };
  const unpaced = await replay(cloud.url, edge.token);
  const paced = await replay(cloud.url, edge.token, RATE);

  process.stdout.write(
    [
      `outbox writes: ${SECONDS} s per row, node ${process.version}, WAL synchronous=FULL (an fsync per commit)`,
      table(['write', 'µs per alarm', 'vs anchor', 'alarms'], rows.map(([name, r], i) => [name, r.usPerAlarm.toFixed(1), `${(r.usPerAlarm / rows[i - (i % 2)]![1].usPerAlarm).toFixed(2)}×`, fmt(r.alarms)])),
      '',
      `replay after a ${fmt(OUTAGE)}-alarm outage: real uplink → real cloud (SQLite, sample county), batches of 100, loopback`,
      table(['replay', 'seconds', 'alarms/s', 'most in one second'], [
        ['unpaced (replayRatePerS unset)', unpaced.seconds.toFixed(1), fmt(unpaced.perSecond), fmt(unpaced.maxInOneSecond)],
        [`paced, replayRatePerS ${fmt(RATE)}`, paced.seconds.toFixed(1), fmt(paced.perSecond), fmt(paced.maxInOneSecond)],
      ]),
      '',
    ].join('\n'),
  );
} finally {
  await cloud.close();
  rmSync(dir, { recursive: true, force: true });
}
