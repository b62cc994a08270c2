// One HTTP exchange with a camera, bounded in time and cancellable, with HTTP digest (RFC 7616: MD5
// or SHA-256, qop=auth) answered when the camera challenges. Used for SOAP calls the onvif package
// does not make for us (the event service) and for snapshot downloads. Network failures become
// CameraFailures with stable reasons.
import { createHash, randomBytes } from 'node:crypto';
import { request as httpRequest, type Agent, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { CameraFailure } from '../failure.js';

export interface Credentials {
  username: string;
  password: string;
}

export interface HttpOptions {
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  timeoutMs: number;
  signal?: AbortSignal;
  auth?: Credentials;
  /** Let Basic answer a Basic challenge (only sensible over HTTPS). Default false. */
  allowBasic?: boolean;
  agent?: Agent;
  /** Response bodies larger than this fail (a JPEG snapshot fits; a runaway stream does not). */
  maxBytes?: number;
}

export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** Sends the request; on a 401 digest challenge, sends it once more with the answer. */
export async function httpExchange(url: string, o: HttpOptions): Promise<HttpResponse> {
  const first = await once(url, o, undefined);
  if (first.status !== 401 || !o.auth) return first;
  const challenges = first.challenges;
  const digest = challenges.filter((c) => /^Digest\s/i.test(c));
  let authorization: string | undefined;
  if (digest.length > 0) authorization = digestAuthorization(digest, o.method ?? 'GET', new URL(url), o.auth);
  else if (o.allowBasic && challenges.some((c) => /^Basic\s/i.test(c))) authorization = `Basic ${Buffer.from(`${o.auth.username}:${o.auth.password}`).toString('base64')}`;
  if (!authorization) return first;
  return once(url, o, authorization);
}

function once(url: string, o: HttpOptions, authorization: string | undefined): Promise<HttpResponse & { challenges: string[] }> {
  return new Promise((resolve, reject) => {
    if (o.signal?.aborted) return reject(new CameraFailure('onvif_aborted', 'request cancelled'));
    const u = new URL(url);
    const headers: Record<string, string | number> = { ...o.headers };
    if (o.body !== undefined) headers['Content-Length'] = Buffer.byteLength(o.body);
    if (authorization) headers.Authorization = authorization;
    const req = (u.protocol === 'https:' ? httpsRequest : httpRequest)(u, { method: o.method ?? 'GET', headers, agent: o.agent });
    let done = false;
    const fail = (err: CameraFailure) => {
      if (done) return;
      done = true;
      cleanup();
      req.destroy();
      reject(err);
    };
    const timer = setTimeout(() => fail(new CameraFailure('onvif_timeout', `no answer from ${u.host} in ${o.timeoutMs} ms`)), o.timeoutMs);
    const onAbort = () => fail(new CameraFailure('onvif_aborted', 'request cancelled'));
    o.signal?.addEventListener('abort', onAbort, { once: true });
    const cleanup = () => {
      clearTimeout(timer);
      o.signal?.removeEventListener('abort', onAbort);
    };
    req.on('error', (err: NodeJS.ErrnoException) => fail(networkFailure(err, u.host)));
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > (o.maxBytes ?? 4 * 1024 * 1024)) return fail(new CameraFailure('onvif_bad_response', `response from ${u.host} is larger than ${o.maxBytes ?? 4 * 1024 * 1024} bytes`));
        chunks.push(c);
      });
      res.on('error', (err: NodeJS.ErrnoException) => fail(networkFailure(err, u.host)));
      res.on('end', () => {
        if (done) return;
        done = true;
        cleanup();
        const challenges: string[] = [];
        for (let i = 0; i < res.rawHeaders.length; i += 2) if (res.rawHeaders[i]!.toLowerCase() === 'www-authenticate') challenges.push(res.rawHeaders[i + 1]!);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), challenges });
      });
    });
    req.end(o.body);
  });
}

const UNREACHABLE = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTDOWN']);

function networkFailure(err: NodeJS.ErrnoException, host: string): CameraFailure {
  if (err.code && UNREACHABLE.has(err.code)) return new CameraFailure('onvif_unreachable', `${host}: ${err.code}`, { cause: err });
  if (/socket hang up/i.test(err.message)) return new CameraFailure('onvif_unreachable', `${host}: connection closed`, { cause: err });
  return new CameraFailure('onvif_unreachable', `${host}: ${err.message}`, { cause: err });
}

let nc = 0;

/** The Authorization header answering the strongest digest challenge offered (SHA-256 over MD5). */
export function digestAuthorization(challenges: string[], method: string, url: URL, auth: Credentials): string | undefined {
  const parsed = challenges.map((c) => params(c.replace(/^Digest\s+/i, '')));
  const pick = parsed.find((p) => /^SHA-256$/i.test(p.algorithm ?? '')) ?? parsed.find((p) => !p.algorithm || /^MD5$/i.test(p.algorithm));
  if (!pick || !pick.nonce || pick.realm === undefined) return undefined;
  const algo = /^SHA-256$/i.test(pick.algorithm ?? '') ? 'sha256' : 'md5';
  const h = (s: string) => createHash(algo).update(s).digest('hex');
  const uri = `${url.pathname}${url.search}`;
  const qop = (pick.qop ?? '').split(',').map((q) => q.trim()).includes('auth') ? 'auth' : undefined;
  const ha1 = h(`${auth.username}:${pick.realm}:${auth.password}`);
  const ha2 = h(`${method}:${uri}`);
  const count = (++nc % 1e8).toString(16).padStart(8, '0');
  const cnonce = randomBytes(8).toString('hex');
  const response = qop ? h(`${ha1}:${pick.nonce}:${count}:${cnonce}:${qop}:${ha2}`) : h(`${ha1}:${pick.nonce}:${ha2}`);
  const parts = [`username="${auth.username}"`, `realm="${pick.realm}"`, `nonce="${pick.nonce}"`, `uri="${uri}"`, `response="${response}"`];
  if (pick.algorithm) parts.push(`algorithm=${pick.algorithm}`);
  if (qop) parts.push(`qop=${qop}`, `nc=${count}`, `cnonce="${cnonce}"`);
  if (pick.opaque) parts.push(`opaque="${pick.opaque}"`);
  return `Digest ${parts.join(', ')}`;
}

function params(s: string): Record<string, string> {
  const out: Record<string, string> = {};
  const re = /(\w+)\s*=\s*(?:"([^"]*)"|([^,\s]*))/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s))) out[m[1]!.toLowerCase()] = m[2] ?? m[3] ?? '';
  return out;
}
