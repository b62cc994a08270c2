// Test support: a stand-in for the cloud's three firmware routes, speaking contracts/firmware.ts exactly
// (Bearer edge token, the job list, Range downloads with 206, reports checked with canMoveJob: 409 on an
// illegal move, the same state twice taken as one). The real cloud routes are exercised end to end in
// test/e2e/firmware-campaign.test.ts (written at integration); this one lets a test decide what each
// request returns and inject the faults a real uplink has (a download cut short, one held open).
import { generateKeyPairSync } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import Value from 'typebox/value';
import { canMoveJob, FIRMWARE_TERMINAL_STATES, FirmwareJobReport, keyIdOf, sha256Hex, signManifest, type FirmwareJob, type FirmwareManifest } from '../../contracts/firmware.js';

export interface SigningKey {
  privatePem: string;
  publicPem: string;
  keyId: string;
}

export function newSigningKey(): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const publicPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  return { privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), publicPem, keyId: keyIdOf(publicPem) };
}

/** Deterministic image bytes. */
export function imageBytes(size: number, seed = 1): Buffer {
  const b = Buffer.alloc(size);
  let x = seed * 2654435761;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

export interface JobSpec {
  jobId: string;
  target: FirmwareJob['target'];
  bytes: Buffer;
  version: string;
  profiles: string[];
  /** Signs with this key; `null` leaves the job unsigned. */
  key: SigningKey | null;
  /** Serve these bytes instead (a tampered or corrupted artifact). */
  serve?: Buffer;
  notBefore?: number;
  window?: FirmwareJob['window'];
  paused?: boolean;
}

export interface SeenReport {
  jobId: string;
  report: FirmwareJobReport;
  status: number;
}

export class FirmwareCloudStandIn {
  readonly token = 'gse_firmware_test';
  readonly jobs = new Map<string, FirmwareJob>();
  readonly reports: SeenReport[] = [];
  /** Each download request's Range header ('' when none), by artifact id. */
  readonly downloads: Array<{ artifactId: string; range: string }> = [];
  polls = 0;
  /** Fault: the next download of this artifact sends this many bytes, then holds the response open. */
  holdAfter = new Map<string, number>();
  private readonly bodies = new Map<string, Buffer>();
  private readonly held = new Set<ServerResponse>();
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  url = '';

  async start(): Promise<string> {
    const server = createServer((req, res) => void this.handle(req, res));
    server.on('connection', (s) => {
      this.sockets.add(s);
      s.once('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    this.server = server;
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return this.url;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }

  /** Lets held downloads go on (their sockets are cut: the edge resumes with a Range request). */
  releaseHeld(): void {
    for (const res of this.held) res.socket?.destroy();
    this.held.clear();
  }

  add(spec: JobSpec): FirmwareJob {
    const manifest: FirmwareManifest = { version: spec.version, sha256: sha256Hex(spec.bytes), size: spec.bytes.length, profiles: spec.profiles };
    const artifactId = `fa_${spec.jobId}`;
    const downloadPath = `/api/v1/edges/firmware/artifacts/${artifactId}/download`;
    this.bodies.set(downloadPath, spec.serve ?? spec.bytes);
    const job: FirmwareJob = {
      jobId: spec.jobId,
      campaignId: 'fc_test',
      target: spec.target,
      artifact: { id: artifactId, manifest, signature: spec.key ? signManifest(manifest, spec.key.privatePem) : '', keyId: spec.key?.keyId ?? '', downloadPath },
      state: 'pending',
      notBefore: spec.notBefore ?? 0,
      paused: spec.paused ?? false,
      ...(spec.window ? { window: spec.window } : {}),
    };
    this.jobs.set(job.jobId, job);
    return job;
  }

  /** The reports the cloud stored for a job (2xx), in order. */
  stored(jobId: string): FirmwareJobReport[] {
    return this.reports.filter((r) => r.jobId === jobId && r.status < 300).map((r) => r.report);
  }

  /** The job's state as the cloud holds it. */
  state(jobId: string): string | undefined {
    return this.jobs.get(jobId)?.state;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.headers.authorization !== `Bearer ${this.token}`) return json(res, 401, { code: 'GS_ERR_EDGE_UNKNOWN', message: 'edge token is not known' });
    const url = new URL(req.url ?? '/', 'http://x');
    if (req.method === 'GET' && url.pathname === '/api/v1/edges/firmware/jobs') {
      this.polls++;
      // A long-poll shortened: the stand-in answers after a moment with every job not finished.
      await new Promise((r) => setTimeout(r, 50));
      return json(res, 200, { jobs: [...this.jobs.values()].filter((j) => !FIRMWARE_TERMINAL_STATES.includes(j.state)) });
    }
    const body = this.bodies.get(url.pathname);
    if (req.method === 'GET' && body) return this.download(req, res, url.pathname, body);
    const m = /^\/api\/v1\/edges\/firmware\/jobs\/([^/]+)\/report$/.exec(url.pathname);
    if (req.method === 'POST' && m) {
      const jobId = decodeURIComponent(m[1]!);
      let report: unknown;
      try {
        report = JSON.parse(await readBody(req));
      } catch {
        return json(res, 400, { code: 'GS_ERR_JSON_MALFORMED' });
      }
      const job = this.jobs.get(jobId);
      if (!job) return json(res, 404, { code: 'GS_ERR_NOT_FOUND' });
      if (!Value.Check(FirmwareJobReport, report)) {
        this.reports.push({ jobId, report: report as FirmwareJobReport, status: 400 });
        return json(res, 400, { code: 'GS_ERR_VALIDATION' });
      }
      const r = report as FirmwareJobReport;
      if (r.state !== job.state && !canMoveJob(job.state, r.state)) {
        this.reports.push({ jobId, report: r, status: 409 });
        return json(res, 409, { code: 'GS_ERR_CONFLICT', message: `${job.state} → ${r.state}` });
      }
      job.state = r.state;
      this.reports.push({ jobId, report: r, status: 200 });
      return json(res, 200, { jobId, state: job.state });
    }
    return json(res, 404, { code: 'GS_ERR_ROUTE_NOT_FOUND' });
  }

  private download(req: IncomingMessage, res: ServerResponse, path: string, body: Buffer): void {
    const artifactId = path.split('/').at(-2)!;
    const range = String(req.headers.range ?? '');
    this.downloads.push({ artifactId, range });
    let from = 0;
    const m = /^bytes=(\d+)-$/.exec(range);
    if (m) from = Number(m[1]);
    if (from >= body.length) {
      res.writeHead(416, { 'content-range': `bytes */${body.length}` }).end();
      return;
    }
    const part = body.subarray(from);
    res.writeHead(from > 0 ? 206 : 200, {
      'content-type': 'application/octet-stream',
      'content-length': String(part.length),
      'accept-ranges': 'bytes',
      ...(from > 0 ? { 'content-range': `bytes ${from}-${body.length - 1}/${body.length}` } : {}),
    });
    const hold = this.holdAfter.get(artifactId);
    if (hold !== undefined) {
      this.holdAfter.delete(artifactId);
      res.write(part.subarray(0, hold));
      this.held.add(res);
      return;
    }
    res.end(part);
  }
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let s = '';
    req.on('data', (c: Buffer) => (s += c.toString()));
    req.on('end', () => resolve(s));
    req.on('error', reject);
  });
}
