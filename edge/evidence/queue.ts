// Pictures waiting for the cloud, durable until it has them. The JPEG goes to a file named by its
// SHA-256 in <dataDir>/evidence/ (written to a temporary name, fsynced, renamed, the folder fsynced),
// then a row in the edge's state database (edge.db, WAL, synchronous=FULL like the outbox) says which
// alarm it belongs to. So what put() returned survives kill -9 and power loss; a file without a row
// (a crash between the two) is swept at open. Rows leave in order, once the cloud acked both the bytes
// and the link. Kept apart from the alarm outbox on purpose: an alarm never waits for a picture.
import type Database from 'better-sqlite3';
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Evidence } from '../../contracts/alarm.js';
import type { Clock } from '../../contracts/clock.js';
import { GsError } from '../../contracts/errors.js';
import { isJpeg, sha256Hex } from '../../contracts/jpeg.js';

export interface EvidenceItem {
  seq: number;
  /** The edge's alarm id. */
  alarmId: string;
  evidence: Evidence;
  attempts: number;
  createdAt: number;
}

interface Row {
  seq: number;
  alarm_id: string;
  camera_id: string;
  sha256: string;
  taken_at: number;
  size: number;
  attempts: number;
  created_at: number;
}

export interface EvidenceQueueOptions {
  /** Pictures waiting at most; past it put() refuses (a cloud gone for days must not fill the disk). Default 2000. */
  maxItems?: number;
}

export class EvidenceQueue {
  private readonly dir: string;
  private readonly stmts;
  private readonly maxItems: number;

  constructor(
    private readonly db: Database.Database,
    dataDir: string,
    private readonly clock: Clock,
    o: EvidenceQueueOptions = {},
  ) {
    this.dir = join(dataDir, 'evidence');
    this.maxItems = o.maxItems ?? 2000;
    mkdirSync(this.dir, { recursive: true });
    db.exec(`
      CREATE TABLE IF NOT EXISTS evidence_outbox (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        alarm_id TEXT NOT NULL,
        camera_id TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        taken_at INTEGER NOT NULL,
        size INTEGER NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        created_at INTEGER NOT NULL,
        UNIQUE (alarm_id, sha256)
      );
    `);
    this.stmts = {
      put: db.prepare('INSERT OR IGNORE INTO evidence_outbox (alarm_id, camera_id, sha256, taken_at, size, created_at) VALUES (?, ?, ?, ?, ?, ?)'),
      peek: db.prepare('SELECT * FROM evidence_outbox ORDER BY seq LIMIT ?'),
      del: db.prepare('DELETE FROM evidence_outbox WHERE seq = ?'),
      uses: db.prepare('SELECT COUNT(*) AS n FROM evidence_outbox WHERE sha256 = ?'),
      depth: db.prepare('SELECT COUNT(*) AS n FROM evidence_outbox'),
      attempt: db.prepare('UPDATE evidence_outbox SET attempts = attempts + 1 WHERE seq = ?'),
      all: db.prepare('SELECT DISTINCT sha256 FROM evidence_outbox'),
    };
    this.sweep();
  }

  /** Stores the picture durably and queues it for `alarmId`; returns what the alarm's evidence says of it. */
  put(alarmId: string, cameraId: string, jpeg: Buffer, takenAt: number): Evidence {
    if (!isJpeg(jpeg)) throw new GsError('GS_ERR_EVIDENCE_INVALID', `the picture of ${cameraId} is not a JPEG`);
    if (this.depth() >= this.maxItems) throw new GsError('GS_ERR_ACTION_SNAPSHOT', `${this.maxItems} pictures already wait for the cloud; this one is not kept`);
    const sha256 = sha256Hex(jpeg);
    this.writeFile(sha256, jpeg);
    this.stmts.put.run(alarmId, cameraId, sha256, takenAt, jpeg.length, this.clock.now());
    return { kind: 'snapshot', cameraId, takenAt, contentType: 'image/jpeg', sha256, size: jpeg.length };
  }

  /** The oldest `n` waiting, in order. */
  peek(n = 1): EvidenceItem[] {
    return (this.stmts.peek.all(n) as Row[]).map((r) => ({
      seq: r.seq,
      alarmId: r.alarm_id,
      attempts: r.attempts,
      createdAt: r.created_at,
      evidence: { kind: 'snapshot', cameraId: r.camera_id, takenAt: r.taken_at, contentType: 'image/jpeg', sha256: r.sha256, size: r.size },
    }));
  }

  /** The bytes of a queued picture; undefined when the file is gone or damaged (then drop the item). */
  bytes(sha256: string): Buffer | undefined {
    try {
      const b = readFileSync(this.file(sha256));
      return sha256Hex(b) === sha256 ? b : undefined;
    } catch {
      return undefined;
    }
  }

  attempted(seq: number): void {
    this.stmts.attempt.run(seq);
  }

  /** Removes a delivered (or undeliverable) item, and its file when no other item needs it. */
  done(item: EvidenceItem): void {
    this.stmts.del.run(item.seq);
    if ((this.stmts.uses.get(item.evidence.sha256) as { n: number }).n === 0) rmSync(this.file(item.evidence.sha256), { force: true });
  }

  depth(): number {
    return (this.stmts.depth.get() as { n: number }).n;
  }

  private file(sha256: string): string {
    return join(this.dir, `${sha256}.jpg`);
  }

  private writeFile(sha256: string, bytes: Buffer): void {
    const final = this.file(sha256);
    const tmp = `${final}.${process.pid}.tmp`;
    const fd = openSync(tmp, 'w');
    try {
      writeSync(fd, bytes);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, final);
    // The rename is durable once the folder's entry is.
    const dirFd = openSync(this.dir, 'r');
    try {
      fsyncSync(dirFd);
    } finally {
      closeSync(dirFd);
    }
  }

  /** Files no row refers to (a crash between file and row, or a temporary file) are removed. */
  private sweep(): void {
    const wanted = new Set((this.stmts.all.all() as Array<{ sha256: string }>).map((r) => `${r.sha256}.jpg`));
    for (const f of readdirSync(this.dir)) if (!wanted.has(f)) rmSync(join(this.dir, f), { force: true });
  }
}
