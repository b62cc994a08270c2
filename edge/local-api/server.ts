// The edge's local HTTP API, for a technician's laptop on the town's network or a kiosk next to the
// box: device health, a camera snapshot on demand, and the edge's own telemetry history. It listens on
// 127.0.0.1 only (reach it through SSH or a local reverse proxy), and with a token configured every
// request needs `Authorization: Bearer <token>`. Bad input gets a GS_ERR code and a 4xx, as the cloud.
import { createHash, timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { GsError, isGsError } from '../../contracts/errors.js';
import type { Reading } from '../../contracts/reading.js';
import { isCameraFailure } from '../cameras/failure.js';
import type { Snapshot } from '../cameras/snapshot.js';
import type { TelemetryQuery } from '../telemetry/store.js';

export interface LocalDevice {
  id: string;
  name: string;
  profile: string;
  kind: string;
  /** online | offline | unknown | starting (edge/health/). */
  health: string;
  lastAnswerAt: number | null;
  lastError: string | null;
  polls: number;
}

export interface LocalApiDeps {
  devices(): LocalDevice[];
  snapshot(cameraId: string, signal: AbortSignal): Promise<Snapshot>;
  telemetry(q: TelemetryQuery): Promise<Reading[]>;
  now(): number;
}

export interface LocalApiOptions {
  /** 0: a free port (tests). */
  port: number;
  token?: string;
  /** Default 127.0.0.1; the API is not meant for the open network. */
  host?: string;
  deps: LocalApiDeps;
}

const DEFAULT_WINDOW_MS = 3_600_000;
const MAX_LIMIT = 10_000;

export class LocalApi {
  private app?: FastifyInstance;
  url = '';

  constructor(private readonly o: LocalApiOptions) {}

  async start(): Promise<string> {
    const app = Fastify({ logger: false });
    this.app = app;
    app.setErrorHandler((err: FastifyError, _req, reply) => {
      const gs = toGsError(err);
      const body: Record<string, unknown> = gs.toJSON();
      if (isCameraFailure(err)) body.reason = err.reason;
      return reply.status(gs.status).send(body);
    });
    app.setNotFoundHandler((req, reply) => {
      const gs = new GsError('GS_ERR_ROUTE_NOT_FOUND', `no route for ${req.method} ${req.url.split('?')[0]}`);
      return reply.status(gs.status).send(gs.toJSON());
    });
    const token = this.o.token;
    if (token) app.addHook('onRequest', async (req: FastifyRequest) => checkToken(req, token));
    this.routes(app);
    try {
      this.url = await app.listen({ port: this.o.port, host: this.o.host ?? '127.0.0.1' });
    } catch (err) {
      await app.close().catch(() => undefined);
      this.app = undefined;
      throw new GsError('GS_ERR_LOCAL_API', `the local API cannot listen on ${this.o.host ?? '127.0.0.1'}:${this.o.port}: ${(err as Error).message}`, [], { cause: err });
    }
    return this.url;
  }

  async stop(): Promise<void> {
    const app = this.app;
    this.app = undefined;
    await app?.close();
  }

  private routes(app: FastifyInstance): void {
    const d = this.o.deps;

    app.get('/api/devices', async () => ({ items: d.devices() }));

    app.get<{ Params: { id: string } }>('/api/cameras/:id/snapshot', async (req, reply: FastifyReply) => {
      const ctl = new AbortController();
      // A client that gives up stops the snapshot (an ffmpeg child) instead of leaving it to run out.
      req.raw.once('close', () => {
        if (!reply.sent) ctl.abort();
      });
      const snap = await d.snapshot(req.params.id, ctl.signal);
      return reply
        .type('image/jpeg')
        .header('cache-control', 'no-store')
        .header('x-gridsense-taken-at', new Date(snap.takenAt).toISOString())
        .header('x-gridsense-source', snap.source)
        .header('etag', `"${snap.sha256}"`)
        .send(snap.jpeg);
    });

    app.get<{ Querystring: Record<string, string | undefined> }>('/api/telemetry', async (req) => {
      const q = req.query;
      const known = new Set(['device', 'point', 'from', 'to', 'limit']);
      const unknown = Object.keys(q).filter((k) => !known.has(k));
      if (unknown.length > 0) throw new GsError('GS_ERR_VALIDATION', `unknown query parameter(s): ${unknown.join(', ')}`, unknown.map((k) => ({ path: `/${k}`, message: 'is not a known parameter (device, point, from, to, limit)' })));
      if (q.device !== undefined && !d.devices().some((x) => x.id === q.device)) throw new GsError('GS_ERR_DEVICE_UNKNOWN', `no device "${q.device}" on this edge`);
      const to = timeParam(q.to, 'to') ?? d.now();
      const from = timeParam(q.from, 'from') ?? to - DEFAULT_WINDOW_MS;
      if (from > to) throw new GsError('GS_ERR_VALIDATION', '"from" is after "to"', [{ path: '/from', message: 'must not be after "to"' }]);
      let limit = MAX_LIMIT;
      if (q.limit !== undefined) {
        limit = Number(q.limit);
        if (!/^\d+$/.test(q.limit) || limit < 1 || limit > MAX_LIMIT) throw new GsError('GS_ERR_VALIDATION', 'limit is not valid', [{ path: '/limit', message: `must be an integer from 1 to ${MAX_LIMIT}` }]);
      }
      const items = await d.telemetry({ from, to, limit, ...(q.device !== undefined ? { deviceId: q.device } : {}), ...(q.point !== undefined ? { point: q.point } : {}) });
      return { from: new Date(from).toISOString(), to: new Date(to).toISOString(), items };
    });
  }
}

function checkToken(req: FastifyRequest, token: string): void {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
  if (!m) throw new GsError('GS_ERR_AUTH_MISSING', 'the local API needs Authorization: Bearer <localApi.token>');
  const hash = (s: string) => createHash('sha256').update(s).digest();
  if (!timingSafeEqual(hash(m[1]!), hash(token))) throw new GsError('GS_ERR_AUTH_INVALID', 'the local API token is not valid');
}

function timeParam(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  const ms = /^\d+$/.test(v) ? Number(v) : Date.parse(v);
  if (!Number.isSafeInteger(ms)) throw new GsError('GS_ERR_VALIDATION', `${name} is not a time`, [{ path: `/${name}`, message: 'give milliseconds since the epoch or an ISO 8601 time' }]);
  return ms;
}

function toGsError(err: FastifyError): GsError {
  if (isGsError(err)) return err;
  if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) return new GsError(err.statusCode === 404 ? 'GS_ERR_NOT_FOUND' : 'GS_ERR_VALIDATION', err.message);
  return new GsError('GS_ERR_INTERNAL');
}
