// The Node-RED editor and runtime inside the edge process, on an HTTP server of their own (loopback by
// default), with the gridsense nodes loaded from this repository and the in-process bridge in their
// settings. Flows live in the edge's data folder. The editor deploys code into the edge (function
// nodes), so it starts only with an admin login — or on loopback when explicitly allowed — and
// installing npm modules from the editor is off: what runs on the box is what was put there.
// Constructing does nothing; start() listens, stop() stops the flows and closes every socket.
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GsError } from '../../contracts/errors.js';
import { errFields, type Logger } from '../log.js';
import type { GridsenseNodeApi } from './bridge.js';
import { isLoopback, type NodeRedSettings } from './config.js';
import { bcryptLibrary } from './password.js';

/**
 * node-red-contrib-gridsense, the node package in this repository: beside the sources, or — from a
 * build in dist/ (which holds no node files) — in the checkout dist/ was built from.
 */
export const NODE_PACKAGE_DIR = ['../../node-red/', '../../../node-red/']
  .map((p) => fileURLToPath(new URL(p, import.meta.url)))
  .find((dir) => existsSync(join(dir, 'package.json'))) ?? fileURLToPath(new URL('../../node-red/', import.meta.url));
/** HTTP-in nodes of flows answer under this path (behind the admin login, as basic auth). */
export const HTTP_NODE_ROOT = '/api';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** The part of node-red's (untyped, CommonJS) embedding API used here. */
interface NodeRedModule {
  init(server: Server, settings: Record<string, unknown>): void;
  start(): Promise<void>;
  stop(): Promise<void>;
  readonly httpAdmin: Handler;
  readonly httpNode: Handler;
}

/** Node-RED's numeric log levels (@node-red/util log.js) → the edge's logger. */
const LEVELS: Array<[number, 'error' | 'warn' | 'info' | 'debug']> = [[20, 'error'], [30, 'warn'], [40, 'info'], [60, 'debug']];

export interface EmbeddedNodeRedOptions {
  settings: NodeRedSettings;
  /** The edge's data folder; flows go to <dataDir>/node-red. */
  dataDir: string;
  bridge: GridsenseNodeApi;
  logger: Logger;
}

export class EmbeddedNodeRed {
  private server?: Server;
  private red?: NodeRedModule;
  private port = 0;

  constructor(private readonly o: EmbeddedNodeRedOptions) {}

  /** Throws GS_ERR_NODE_RED_AUTH (no login where one is needed) or GS_ERR_NODE_RED_START. */
  async start(): Promise<void> {
    if (this.server) return;
    const { settings, logger } = this.o;
    if (!settings.admin && !isLoopback(settings.host)) {
      throw new GsError('GS_ERR_NODE_RED_AUTH', `the Node-RED editor on ${settings.host} needs nodeRed.adminUser and nodeRed.adminPasswordHash in edge.yaml`);
    }
    const userDir = join(this.o.dataDir, 'node-red');
    mkdirSync(userDir, { recursive: true });
    const red = createRequire(import.meta.url)('node-red') as NodeRedModule;
    const admin = settings.admin;
    // Node-RED's own `httpNodeAuth` lives in its command-line launcher, not in the embedding API: the
    // flows' HTTP endpoints get the admin login here, as HTTP basic auth.
    const basic = admin ? new BasicAuth(admin.user, admin.passwordHash) : undefined;
    const server = createServer((req, res) => {
      const url = req.url ?? '/';
      if (!(url === HTTP_NODE_ROOT || url.startsWith(`${HTTP_NODE_ROOT}/`) || url.startsWith(`${HTTP_NODE_ROOT}?`))) {
        red.httpAdmin(req, res);
        return;
      }
      void (basic ? basic.check(req.headers.authorization) : Promise.resolve(true)).then((ok) => {
        if (!ok) {
          res.writeHead(401, { 'www-authenticate': 'Basic realm="gridsense node-red"', 'content-type': 'application/json' });
          res.end(JSON.stringify({ code: 'GS_ERR_AUTH_MISSING', message: 'the flows\' HTTP endpoints need the Node-RED admin login' }));
          return;
        }
        req.url = url.slice(HTTP_NODE_ROOT.length) || '/';
        red.httpNode(req, res);
      });
    });
    red.init(server, {
      userDir,
      flowFile: 'flows.json',
      httpAdminRoot: '/',
      httpNodeRoot: HTTP_NODE_ROOT,
      nodesDir: [NODE_PACKAGE_DIR],
      ...(admin
        ? {
            adminAuth: { type: 'credentials', users: [{ username: admin.user, password: admin.passwordHash, permissions: '*' }] },
          }
        : {}),
      externalModules: { autoInstall: false, palette: { allowInstall: false, allowUpload: false }, modules: { allowInstall: false } },
      editorTheme: { projects: { enabled: false }, tours: false },
      telemetry: { enabled: false },
      logging: {
        console: { level: 'off' },
        gridsense: { level: 'info', metrics: false, audit: false, handler: () => (msg: { level: number; msg: unknown; type?: string; id?: string }) => this.log(msg) },
      },
      gridsense: this.o.bridge,
    });
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(settings.port, settings.host, () => {
          server.off('error', reject);
          resolve();
        });
      });
      await red.start();
    } catch (err) {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      throw new GsError('GS_ERR_NODE_RED_START', `the Node-RED editor cannot start on ${settings.host}:${settings.port}: ${(err as Error).message}`, [], { cause: err });
    }
    server.on('error', (err) => logger.error({ ...errFields(err), code: 'GS_ERR_NODE_RED_START' }, 'node-red listener error'));
    this.server = server;
    this.red = red;
    this.port = (server.address() as AddressInfo).port;
    logger.info({ url: this.url, login: admin ? admin.user : 'none (loopback)' }, 'Node-RED editor listening');
  }

  async stop(): Promise<void> {
    const { server, red } = this;
    if (!server || !red) return;
    this.server = undefined;
    this.red = undefined;
    await red.stop().catch((err: unknown) => this.o.logger.error(errFields(err), 'node-red stop failed'));
    // Editor websockets and keep-alive connections would hold close() open.
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  }

  get url(): string {
    const host = this.o.settings.host.includes(':') ? `[${this.o.settings.host}]` : this.o.settings.host;
    return `http://${host}:${this.port}`;
  }

  address(): { host: string; port: number } {
    return { host: this.o.settings.host, port: this.port };
  }

  private log(m: { level: number; msg: unknown; type?: string; id?: string }): void {
    const level = LEVELS.find(([n]) => m.level <= n)?.[1];
    if (!level) return;
    const text = m.msg instanceof Error ? m.msg.message : typeof m.msg === 'string' ? m.msg : JSON.stringify(m.msg);
    this.o.logger[level]({ ...(m.type ? { nodeType: m.type } : {}), ...(m.id ? { nodeId: m.id } : {}) }, text);
  }
}

/** HTTP basic auth against the bcrypt hash; the last password that passed is remembered as a digest, so a polling client does not cost one bcrypt per request. */
class BasicAuth {
  private verified?: Buffer;

  constructor(private readonly user: string, private readonly hash: string) {}

  async check(header: string | undefined): Promise<boolean> {
    const m = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(header ?? '');
    if (!m) return false;
    const text = Buffer.from(m[1]!, 'base64').toString('utf8');
    const colon = text.indexOf(':');
    if (colon < 0 || text.slice(0, colon) !== this.user) return false;
    const password = text.slice(colon + 1);
    const digest = createHash('sha256').update(password).digest();
    if (this.verified && timingSafeEqual(this.verified, digest)) return true;
    const ok = await bcryptLibrary().lib.compare(password, this.hash).catch(() => false);
    if (ok) this.verified = digest;
    return ok;
  }
}
