import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Type from 'typebox';
import { Duration, durationMs } from '../../../contracts/duration.js';
import type { ErrorDetail } from '../../../contracts/errors.js';
import { schemaErrors } from '../../../contracts/validate.js';
import type { ConnectionConfig } from '../driver.js';

export const OPCUA_SECURITY_MODES = ['None', 'SignAndEncrypt'] as const;
export const OPCUA_SECURITY_POLICIES = ['Basic256Sha256', 'Aes128_Sha256_RsaOaep', 'Aes256_Sha256_RsaPss'] as const;

/** The `connection` block of an OPC UA device in edge.yaml. */
export const OpcuaConnection = Type.Object(
  {
    protocol: Type.Literal('opcua'),
    endpoint: Type.String({ pattern: '^opc\\.tcp://[^/:\\s]+(:\\d{1,5})?(/\\S*)?$', description: 'opc.tcp://host:port/path' }),
    securityMode: Type.Optional(Type.Enum(OPCUA_SECURITY_MODES)),
    /** Only with SignAndEncrypt (default Basic256Sha256). */
    securityPolicy: Type.Optional(Type.Enum(OPCUA_SECURITY_POLICIES)),
    username: Type.Optional(Type.String({ minLength: 1 })),
    password: Type.Optional(Type.String()),
    /** Replaces `{prefix}` in the profile's node ids, e.g. `PS1` → `ns=2;s=PS1.Level`. */
    nodePrefix: Type.Optional(Type.String({ minLength: 1 })),
    /**
     * Read and write time limit (default 5s). Connecting gets at least 10 s; devices sharing a session
     * connect and watch keep-alives with the first one's.
     */
    timeout: Type.Optional(Duration),
    /** Monitored items' sampling interval when the point has none (default 1s). */
    samplingInterval: Type.Optional(Duration),
    /** How often the server publishes changes of the endpoint's one subscription (default 1s; the shortest of its devices wins). */
    publishingInterval: Type.Optional(Duration),
    /** Client certificate store (own/, trusted/, rejected/); default: the driver's, else <tmpdir>/gridsense-opcua-pki. */
    pkiFolder: Type.Optional(Type.String({ minLength: 1 })),
    /** Accept an unknown server certificate on first contact; it then stays in <pkiFolder>/trusted/certs. */
    trustServerCertificate: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type OpcuaConnection = Type.Static<typeof OpcuaConnection>;

export interface ResolvedOpcua {
  /** Normalised: lower-case host, explicit port (4840 when none was given). */
  endpoint: string;
  host: string;
  port: number;
  securityMode: (typeof OPCUA_SECURITY_MODES)[number];
  /** 'None' when securityMode is None. */
  securityPolicy: 'None' | (typeof OPCUA_SECURITY_POLICIES)[number];
  username?: string;
  password?: string;
  nodePrefix?: string;
  timeoutMs: number;
  samplingIntervalMs: number;
  publishingIntervalMs: number;
  pkiFolder: string;
  trustServerCertificate: boolean;
}

export const DEFAULT_PKI_FOLDER = join(tmpdir(), 'gridsense-opcua-pki');

/** Schema problems plus the combinations a schema cannot say. */
export function opcuaConnectionErrors(conn: ConnectionConfig): ErrorDetail[] {
  const details = schemaErrors(OpcuaConnection, conn);
  if (details.length > 0) return details;
  const c = conn as unknown as OpcuaConnection;
  const port = /^opc\.tcp:\/\/[^/:]+:(\d+)/.exec(c.endpoint)?.[1];
  if (port !== undefined && (Number(port) < 1 || Number(port) > 65535)) details.push({ path: '/endpoint', message: `port ${port} is not between 1 and 65535` });
  if (c.timeout !== undefined && durationMs(c.timeout) <= 0) details.push({ path: '/timeout', message: 'must be longer than 0' });
  if (c.publishingInterval !== undefined && durationMs(c.publishingInterval) <= 0) {
    details.push({ path: '/publishingInterval', message: 'must be longer than 0' });
  }
  const mode = c.securityMode ?? 'None';
  if (mode === 'None' && c.securityPolicy !== undefined) {
    details.push({ path: '/securityPolicy', message: 'only applies with securityMode SignAndEncrypt' });
  }
  if ((c.username === undefined) !== (c.password === undefined)) {
    details.push({ path: c.username === undefined ? '/username' : '/password', message: 'username and password go together' });
  }
  if (mode === 'None' && c.username !== undefined) {
    // node-opcua would send the password over an unencrypted channel only if the server's token policy
    // encrypts it; many do not, so refuse it here rather than leak a plant password.
    details.push({ path: '/username', message: 'a user name and password need securityMode SignAndEncrypt' });
  }
  if (mode === 'None' && c.trustServerCertificate !== undefined) {
    details.push({ path: '/trustServerCertificate', message: 'only applies with securityMode SignAndEncrypt' });
  }
  return details;
}

export function resolveOpcua(conn: ConnectionConfig, defaultPkiFolder = DEFAULT_PKI_FOLDER): ResolvedOpcua {
  const c = conn as unknown as OpcuaConnection;
  const securityMode = c.securityMode ?? 'None';
  const { endpoint, host, port } = normaliseEndpoint(c.endpoint);
  return {
    endpoint,
    host,
    port,
    securityMode,
    securityPolicy: securityMode === 'None' ? 'None' : (c.securityPolicy ?? 'Basic256Sha256'),
    ...(c.username !== undefined ? { username: c.username, password: c.password ?? '' } : {}),
    ...(c.nodePrefix !== undefined ? { nodePrefix: c.nodePrefix } : {}),
    timeoutMs: c.timeout === undefined ? 5000 : durationMs(c.timeout),
    samplingIntervalMs: c.samplingInterval === undefined ? 1000 : durationMs(c.samplingInterval),
    publishingIntervalMs: c.publishingInterval === undefined ? 1000 : durationMs(c.publishingInterval),
    pkiFolder: c.pkiFolder ?? defaultPkiFolder,
    trustServerCertificate: c.trustServerCertificate ?? false,
  };
}

/** `opc.tcp://PLC-1/UA` → `opc.tcp://plc-1:4840/UA`, so one server is one key however it is written. */
export function normaliseEndpoint(url: string): { endpoint: string; host: string; port: number } {
  const m = /^opc\.tcp:\/\/([^/:\s]+)(?::(\d+))?(\/\S*)?$/i.exec(url);
  if (!m) return { endpoint: url, host: '', port: 4840 };
  const host = m[1]!.toLowerCase();
  const port = m[2] === undefined ? 4840 : Number(m[2]);
  return { endpoint: `opc.tcp://${host}:${port}${m[3] ?? ''}`, host, port };
}

/**
 * Devices that may share one client session and subscription: same server, same identity, same trust.
 * The password is in the key as a hash: two devices naming one user with different passwords must not
 * silently ride on whichever logged in first.
 */
export function linkKey(c: ResolvedOpcua): string {
  const secret = c.password === undefined ? '' : createHash('sha256').update(c.password).digest('hex').slice(0, 16);
  return [c.endpoint, c.securityMode, c.securityPolicy, c.username ?? '', secret, c.pkiFolder, c.trustServerCertificate].join('|');
}

/** Health groups devices by server, whatever identity they log in with. */
export function busIdOf(c: Pick<ResolvedOpcua, 'endpoint'>): string {
  return `bus:${c.endpoint}`;
}
