import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface AlarmPost {
  authorization?: string;
  alarms: Array<Record<string, unknown>>;
}

export interface SinkReply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/**
 * A stand-in for the cloud's alarm ingest (POST /api/v1/alarms) on 127.0.0.1, port 0. Every request is
 * recorded; `reply` decides each answer (default 200 with counts), so a test can fail, refuse or
 * reject uploads and check exactly what the edge sent, in what order, how often.
 */
export class AlarmSink {
  readonly posts: AlarmPost[] = [];
  /** Alarms answered with 2xx, in order. */
  readonly accepted: Array<Record<string, unknown>> = [];
  reply: (post: AlarmPost, n: number) => SinkReply = (post) => ({ status: 200, body: { accepted: post.alarms.length, duplicates: 0 } });
  url = '';
  /** Heartbeats the edge posted (contracts/heartbeat.ts), answered 204. */
  readonly heartbeats: Array<Record<string, unknown>> = [];
  /** Telemetry uploads (POST /api/v1/telemetry/summaries: summaries and gap records), answered 200. */
  readonly telemetry: Array<{ summaries: Array<Record<string, unknown>>; gaps?: Array<Record<string, unknown>> }> = [];
  /** Every request in arrival order, by path: tells what was sent before what. */
  readonly order: string[] = [];
  private server?: Server;

  async start(port = 0): Promise<this> {
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        this.order.push(req.url ?? '');
        if (req.method === 'POST' && req.url === '/api/v1/telemetry/summaries') {
          const b = JSON.parse(body) as AlarmSink['telemetry'][number];
          this.telemetry.push(b);
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ accepted: b.summaries.length + (b.gaps?.length ?? 0), duplicates: 0 }));
          return;
        }
        if (req.method === 'POST' && req.url === '/api/v1/edges/heartbeat') {
          this.heartbeats.push(JSON.parse(body) as Record<string, unknown>);
          res.writeHead(204).end();
          return;
        }
        if (req.method !== 'POST' || req.url !== '/api/v1/alarms') {
          res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ code: 'GS_ERR_ROUTE_NOT_FOUND', message: 'no such route' }));
          return;
        }
        let alarms: AlarmPost['alarms'] = [];
        try {
          alarms = (JSON.parse(body) as { alarms: AlarmPost['alarms'] }).alarms;
        } catch {
          /* recorded as an empty post */
        }
        const post: AlarmPost = { alarms, ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}) };
        this.posts.push(post);
        const r = this.reply(post, this.posts.length);
        if (r.status >= 200 && r.status < 300) this.accepted.push(...alarms);
        res.writeHead(r.status, { 'content-type': 'application/json', ...r.headers }).end(r.body === undefined ? '' : JSON.stringify(r.body));
      });
    });
    this.server = server;
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', () => resolve()));
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
