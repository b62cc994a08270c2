import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A loopback HTTP proxy in front of the cloud that the test can cut: `mode` decides what happens to
 * each request. 'forward' passes it through; 'swallow-response' forwards it (the cloud stores it) but
 * kills the connection before the edge sees the answer — exactly what an uplink dropping mid-request
 * does, so the edge must retry something the cloud already has; 'refuse' drops it unanswered.
 */
export type ProxyMode = 'forward' | 'swallow-response' | 'refuse';

export class FlakyProxy {
  mode: ProxyMode = 'forward';
  /** Requests seen per path, in order, with what was done to them (and the request body). */
  readonly seen: Array<{ path: string; mode: ProxyMode; status?: number; body?: string }> = [];
  private server?: Server;
  url = '';

  constructor(private readonly target: string) {}

  async start(): Promise<this> {
    const server = createServer((req, res) => this.handle(req, res));
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return this;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const mode = this.mode;
    const entry: { path: string; mode: ProxyMode; status?: number; body?: string } = { path: req.url ?? '', mode };
    this.seen.push(entry);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => (entry.body = Buffer.concat(chunks).toString()));
    if (mode === 'refuse') {
      req.resume();
      req.socket.destroy();
      return;
    }
    const t = new URL(this.target);
    const up = request(
      { host: t.hostname, port: t.port, method: req.method, path: req.url, headers: req.headers },
      (upRes) => {
        entry.status = upRes.statusCode;
        if (mode === 'swallow-response') {
          upRes.resume();
          upRes.on('end', () => res.socket?.destroy());
          return;
        }
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        upRes.pipe(res);
      },
    );
    up.on('error', () => res.socket?.destroy());
    req.pipe(up);
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
