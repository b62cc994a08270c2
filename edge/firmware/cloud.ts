// The cloud's three firmware routes, as the edge calls them with its token (contracts/firmware.ts):
//   GET  /api/v1/edges/firmware/jobs?wait=<s>        → { jobs: FirmwareJob[] }  (long-poll)
//   GET  <artifact.downloadPath>                     → bytes, Range supported (206)
//   POST /api/v1/edges/firmware/jobs/:jobId/report   ← FirmwareJobReport (409 on an illegal move)
import { GsError } from '../../contracts/errors.js';
import { FirmwareJobList, type FirmwareJob, type FirmwareJobReport } from '../../contracts/firmware.js';
import { schemaErrors } from '../../contracts/validate.js';

export interface CloudTarget {
  url: string;
  token: string;
  fetch?: typeof fetch;
}

/** How the cloud took a report: stored (or already had it), or refused for good (no retry helps). */
export type ReportOutcome = 'stored' | 'conflict' | 'refused';

export class FirmwareCloud {
  constructor(private readonly c: CloudTarget) {}

  private get fetch(): typeof fetch {
    return this.c.fetch ?? fetch;
  }

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    return { authorization: `Bearer ${this.c.token}`, ...extra };
  }

  /**
   * The jobs for this edge; undefined when the cloud says nothing changed (304 to our If-None-Match).
   * Throws on transport errors, HTTP errors and a body that is not a FirmwareJobList.
   */
  async listJobs(waitS: number, etag: string | undefined, signal: AbortSignal): Promise<{ jobs: FirmwareJob[]; etag?: string } | undefined> {
    const res = await this.fetch(`${this.c.url}/api/v1/edges/firmware/jobs?wait=${waitS}`, { headers: this.headers(etag ? { 'if-none-match': etag } : {}), signal });
    if (res.status === 304) {
      await res.arrayBuffer();
      return undefined;
    }
    const text = await res.text();
    if (!res.ok) throw new GsError('GS_ERR_INTERNAL', `GET /api/v1/edges/firmware/jobs: HTTP ${res.status} ${text.slice(0, 200)}`);
    const value = JSON.parse(text) as unknown;
    const problems = schemaErrors(FirmwareJobList, value);
    if (problems.length > 0) throw new GsError('GS_ERR_VALIDATION', 'the cloud sent a job list that is not a FirmwareJobList', problems.slice(0, 20));
    const tag = res.headers.get('etag');
    return { jobs: (value as FirmwareJobList).jobs, ...(tag ? { etag: tag } : {}) };
  }

  /** Throws on transport errors and 5xx (worth a retry). */
  async report(jobId: string, report: FirmwareJobReport): Promise<{ outcome: ReportOutcome; status: number; body: string }> {
    const res = await this.fetch(`${this.c.url}/api/v1/edges/firmware/jobs/${encodeURIComponent(jobId)}/report`, {
      method: 'POST',
      headers: this.headers({ 'content-type': 'application/json' }),
      body: JSON.stringify(report),
      signal: AbortSignal.timeout(15_000),
    });
    const body = (await res.text()).slice(0, 500);
    if (res.ok) return { outcome: 'stored', status: res.status, body };
    if (res.status === 409) return { outcome: 'conflict', status: res.status, body };
    // 408/429 and 5xx pass; other 4xx (the job is gone, the report is malformed) will not get better.
    if (res.status >= 500 || res.status === 408 || res.status === 429) throw new GsError('GS_ERR_INTERNAL', `report for job ${jobId}: HTTP ${res.status} ${body.slice(0, 200)}`);
    return { outcome: 'refused', status: res.status, body };
  }

  /** The artifact's bytes from `from` on (a Range request when from > 0). */
  async download(downloadPath: string, from: number, signal: AbortSignal): Promise<Response> {
    // Always below the cloud's base URL: the edge token never goes to another host.
    const url = `${this.c.url}${downloadPath.startsWith('/') ? '' : '/'}${downloadPath}`;
    return this.fetch(url, { headers: this.headers(from > 0 ? { range: `bytes=${from}-` } : {}), signal });
  }
}
