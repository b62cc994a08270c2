// Firmware job progress and the reports still owed to the cloud, in the edge's state database (edge.db,
// the outbox's file). A state change and its report are written in one transaction, so after a crash
// the job resumes from the state the cloud will hear about — never one it was told and then lost.
import type Database from 'better-sqlite3';
import type { FirmwareJob, FirmwareJobReport, FirmwareJobState } from '../../contracts/firmware.js';

export interface LocalJob {
  jobId: string;
  /** The job as the cloud last listed it. */
  job: FirmwareJob;
  /** The state this edge last reported (or will report: see the report queue). */
  state: FirmwareJobState;
  /** Bytes the device holds, last heard. */
  bytes?: number;
  /** When this edge started working on it; a started job runs on when its campaign is paused. */
  startedAt?: number;
  /** Edge self-update: the supervisor owns the outcome from here on. */
  handedOver?: boolean;
}

export interface QueuedReport {
  seq: number;
  jobId: string;
  report: FirmwareJobReport;
}

export class FirmwareStore {
  private constructor(
    private readonly db: Database.Database,
    private readonly st: ReturnType<typeof prepare>,
  ) {}

  static in(db: Database.Database): FirmwareStore {
    db.exec(`
      CREATE TABLE IF NOT EXISTS firmware_jobs (job_id TEXT PRIMARY KEY, json TEXT NOT NULL, updated_at INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS firmware_reports (seq INTEGER PRIMARY KEY AUTOINCREMENT, job_id TEXT NOT NULL, json TEXT NOT NULL, created_at INTEGER NOT NULL);
    `);
    return new FirmwareStore(db, prepare(db));
  }

  all(): LocalJob[] {
    return (this.st.all.all() as Array<{ json: string }>).map((r) => JSON.parse(r.json) as LocalJob);
  }

  get(jobId: string): LocalJob | undefined {
    const row = this.st.get.get(jobId) as { json: string } | undefined;
    return row ? (JSON.parse(row.json) as LocalJob) : undefined;
  }

  save(job: LocalJob, at: number): void {
    this.st.put.run(job.jobId, JSON.stringify(job), at);
  }

  /** Saves the job and queues its report, atomically. */
  saveAndReport(job: LocalJob, report: FirmwareJobReport): void {
    this.db.transaction(() => {
      this.save(job, report.at);
      this.st.report.run(job.jobId, JSON.stringify(report), report.at);
    })();
  }

  remove(jobId: string): void {
    this.st.remove.run(jobId);
  }

  peekReports(limit: number): QueuedReport[] {
    return (this.st.peek.all(limit) as Array<{ seq: number; job_id: string; json: string }>).map((r) => ({ seq: r.seq, jobId: r.job_id, report: JSON.parse(r.json) as FirmwareJobReport }));
  }

  ackReport(seq: number): void {
    this.st.ack.run(seq);
  }

  pendingReports(): number {
    return (this.st.count.get() as { n: number }).n;
  }
}

function prepare(db: Database.Database) {
  return {
    all: db.prepare('SELECT json FROM firmware_jobs ORDER BY job_id'),
    get: db.prepare('SELECT json FROM firmware_jobs WHERE job_id = ?'),
    put: db.prepare('INSERT INTO firmware_jobs (job_id, json, updated_at) VALUES (?, ?, ?) ON CONFLICT(job_id) DO UPDATE SET json = excluded.json, updated_at = excluded.updated_at'),
    remove: db.prepare('DELETE FROM firmware_jobs WHERE job_id = ?'),
    report: db.prepare('INSERT INTO firmware_reports (job_id, json, created_at) VALUES (?, ?, ?)'),
    peek: db.prepare('SELECT seq, job_id, json FROM firmware_reports ORDER BY seq LIMIT ?'),
    ack: db.prepare('DELETE FROM firmware_reports WHERE seq = ?'),
    count: db.prepare('SELECT COUNT(*) AS n FROM firmware_reports'),
  };
}
