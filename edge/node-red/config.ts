// The `nodeRed:` section of edge.yaml: the Node-RED editor the edge can run inside its own process.
// The editor can deploy code (function nodes run JavaScript in the edge), so it never runs open: admin
// credentials are required, except on a loopback address when the technician says so explicitly.
import Type from 'typebox';
import type { ErrorDetail } from '../../contracts/errors.js';

/** Node-RED's own default port; an edge box runs one editor, so there is nothing to clash with. */
export const DEFAULT_NODE_RED_PORT = 1880;
/** Loopback: a technician reaches it through an SSH tunnel unless the host is opened on purpose. */
export const DEFAULT_NODE_RED_HOST = '127.0.0.1';
/** A bcrypt hash as Node-RED's adminAuth checks it (`$2a$`, `$2b$` or `$2y$`, cost 4–31). */
export const BCRYPT_HASH = '^\\$2[aby]\\$(0[4-9]|[12][0-9]|3[01])\\$[./A-Za-z0-9]{53}$';

export const NodeRedSection = Type.Object(
  {
    /** Start the editor with the edge (the CLI's `--node-red` does the same for one run). */
    enabled: Type.Optional(Type.Boolean()),
    host: Type.Optional(Type.String({ minLength: 1, description: 'address the editor listens on (default 127.0.0.1)' })),
    /** 0 picks a free port (tests). */
    port: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535, description: 'editor port (default 1880)' })),
    adminUser: Type.Optional(Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9._@-]+$' })),
    adminPasswordHash: Type.Optional(Type.String({ pattern: BCRYPT_HASH, description: 'bcrypt hash from `gridsense node-red-password`' })),
    /** Run the editor without a login. Refused unless the host is a loopback address. */
    allowNoAuth: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type NodeRedSection = Type.Static<typeof NodeRedSection>;

export interface NodeRedSettings {
  enabled: boolean;
  host: string;
  port: number;
  /** Absent only when allowNoAuth was given for a loopback host. */
  admin?: { user: string; passwordHash: string };
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** The section with defaults filled in, or the problems (paths under /nodeRed) that keep it from starting safely. */
export function resolveNodeRedSection(s: NodeRedSection): { settings?: NodeRedSettings; problems: ErrorDetail[] } {
  const problems: ErrorDetail[] = [];
  const host = s.host ?? DEFAULT_NODE_RED_HOST;
  const hasUser = s.adminUser !== undefined;
  const hasHash = s.adminPasswordHash !== undefined;
  if (hasUser !== hasHash) problems.push({ path: hasUser ? '/nodeRed/adminPasswordHash' : '/nodeRed/adminUser', message: 'adminUser and adminPasswordHash go together' });
  else if (!hasUser) {
    if (s.allowNoAuth !== true) problems.push({ path: '/nodeRed', message: 'needs adminUser and adminPasswordHash (`gridsense node-red-password` makes the hash); an editor without a login can deploy code into the edge' });
    else if (!isLoopback(host)) problems.push({ path: '/nodeRed/allowNoAuth', message: `an editor without a login is only allowed on a loopback address, not ${host}` });
  } else if (s.allowNoAuth === true) problems.push({ path: '/nodeRed/allowNoAuth', message: 'give admin credentials or allowNoAuth, not both' });
  if (problems.length > 0) return { problems };
  return {
    problems,
    settings: {
      enabled: s.enabled ?? false,
      host,
      port: s.port ?? DEFAULT_NODE_RED_PORT,
      ...(hasUser ? { admin: { user: s.adminUser!, passwordHash: s.adminPasswordHash! } } : {}),
    },
  };
}
