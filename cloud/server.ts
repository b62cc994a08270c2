import type { FastifyInstance } from 'fastify';
import { buildCloud, type CloudOptions } from './app.js';

export interface StartOptions extends CloudOptions {
  /** 0 picks a free port; the returned url has the real one. */
  port: number;
  host?: string;
}

export interface RunningCloud {
  app: FastifyInstance;
  /** e.g. http://127.0.0.1:8080 (no trailing slash) */
  url: string;
  close(): Promise<void>;
}

/** Builds the cloud and listens; used by the CLI, the demo and the end-to-end tests. */
export async function startCloud({ port, host = '127.0.0.1', ...opts }: StartOptions): Promise<RunningCloud> {
  const app = await buildCloud(opts);
  try {
    await app.listen({ port, host });
  } catch (err) {
    await app.close();
    throw err;
  }
  const addr = app.server.address();
  const realPort = typeof addr === 'object' && addr ? addr.port : port;
  const urlHost = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
  let closing: Promise<void> | undefined;
  return {
    app,
    url: `http://${urlHost}:${realPort}`,
    close: () => (closing ??= app.close()),
  };
}
