// How the simulated camera checks who is calling, as ONVIF Core 5.9 asks of a device:
// - WS-Security UsernameToken with PasswordDigest (OASIS Username Token Profile 1.0, 3.1):
//     Password = Base64( SHA-1( Base64Decode(Nonce) + Created + password ) )
//   Created must be close to the camera's own clock (replay protection), and a nonce is accepted once.
// - HTTP digest (RFC 7616, MD5, qop=auth) on the transport, for clients that use it instead.
// This code is the simulator's own; it shares nothing with the client it tests.
import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { child, text, type XmlElement } from '../../../edge/cameras/onvif/xml.js';
import { NS } from './soap.js';

const DIGEST_TYPE = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest';

export type AuthOutcome =
  | { ok: true; via: 'wsse' | 'digest' | 'none' }
  | { ok: false; via: 'wsse'; why: string }
  | { ok: false; via: 'digest'; why: string; challenge: string };

export interface AuthPolicy {
  username: string;
  password: string;
  /** Which credentials the camera takes. */
  mode: 'wsse' | 'digest' | 'either';
  /** Largest |Created − camera clock| accepted, ms. */
  createdWindowMs: number;
  realm: string;
}

export class Authenticator {
  private readonly seenNonces = new Map<string, number>();
  private readonly digestNonces = new Set<string>();

  constructor(private readonly policy: AuthPolicy) {}

  /**
   * Checks a request. A UsernameToken present is always checked (and a bad one refused, never
   * ignored); without one, HTTP digest is checked when the mode allows it.
   */
  check(req: IncomingMessage, header: XmlElement | undefined, cameraNow: number): AuthOutcome {
    const security = child(header, 'Security', NS.wsse);
    if (security && this.policy.mode !== 'digest') return this.checkWsse(security, cameraNow);
    if (this.policy.mode !== 'wsse') return this.checkDigest(req);
    return { ok: false, via: 'wsse', why: 'no WS-Security UsernameToken' };
  }

  checkDigest(req: IncomingMessage): AuthOutcome {
    const h = req.headers.authorization;
    const challenge = this.challenge();
    if (!h || !/^Digest\s/i.test(h)) return { ok: false, via: 'digest', why: 'no HTTP digest', challenge };
    const p = parseParams(h.replace(/^Digest\s+/i, ''));
    if (p.username !== this.policy.username) return { ok: false, via: 'digest', why: 'unknown user', challenge };
    if (!p.nonce || !this.digestNonces.has(p.nonce)) return { ok: false, via: 'digest', why: 'nonce not issued here', challenge };
    if (p.realm !== this.policy.realm) return { ok: false, via: 'digest', why: 'wrong realm', challenge };
    const md5 = (s: string) => createHash('md5').update(s).digest('hex');
    const ha1 = md5(`${this.policy.username}:${this.policy.realm}:${this.policy.password}`);
    const ha2 = md5(`${req.method}:${p.uri}`);
    const expected = p.qop ? md5(`${ha1}:${p.nonce}:${p.nc}:${p.cnonce}:${p.qop}:${ha2}`) : md5(`${ha1}:${p.nonce}:${ha2}`);
    if (expected !== p.response) return { ok: false, via: 'digest', why: 'digest response does not match', challenge };
    return { ok: true, via: 'digest' };
  }

  challenge(): string {
    const nonce = randomBytes(16).toString('hex');
    this.digestNonces.add(nonce);
    if (this.digestNonces.size > 1000) this.digestNonces.delete(this.digestNonces.values().next().value!);
    return `Digest realm="${this.policy.realm}", qop="auth", nonce="${nonce}", algorithm=MD5`;
  }

  private checkWsse(security: XmlElement, cameraNow: number): AuthOutcome {
    const token = child(security, 'UsernameToken', NS.wsse);
    const user = text(child(token, 'Username', NS.wsse));
    const pw = child(token, 'Password', NS.wsse);
    const nonce = text(child(token, 'Nonce', NS.wsse));
    const created = text(child(token, 'Created', NS.wsu));
    if (!token || !user || !pw || !nonce || !created) return { ok: false, via: 'wsse', why: 'incomplete UsernameToken' };
    const type = pw.attrs.find((a) => a.local === 'Type')?.value;
    if (type !== DIGEST_TYPE) return { ok: false, via: 'wsse', why: 'only PasswordDigest is accepted' };
    if (user !== this.policy.username) return { ok: false, via: 'wsse', why: 'unknown user' };
    const createdMs = Date.parse(created);
    if (!Number.isFinite(createdMs)) return { ok: false, via: 'wsse', why: 'Created is not a dateTime' };
    if (Math.abs(createdMs - cameraNow) > this.policy.createdWindowMs) return { ok: false, via: 'wsse', why: `Created ${created} is too far from the camera clock` };
    const expected = createHash('sha1')
      .update(Buffer.concat([Buffer.from(nonce, 'base64'), Buffer.from(created, 'utf8'), Buffer.from(this.policy.password, 'utf8')]))
      .digest('base64');
    if (expected !== text(pw)) return { ok: false, via: 'wsse', why: 'password digest does not match' };
    // Only a valid token burns its nonce: a guess must not block the real client's next request.
    for (const [n, at] of this.seenNonces) if (at < cameraNow - 2 * this.policy.createdWindowMs) this.seenNonces.delete(n);
    if (this.seenNonces.has(nonce)) return { ok: false, via: 'wsse', why: 'nonce replayed' };
    this.seenNonces.set(nonce, cameraNow);
    return { ok: true, via: 'wsse' };
  }
}

function parseParams(s: string): Record<string, string> {
  const out: Record<string, string> = {};
  const re = /(\w+)=(?:"([^"]*)"|([^,\s]*))/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s))) out[m[1]!.toLowerCase()] = m[2] ?? m[3] ?? '';
  return out;
}
