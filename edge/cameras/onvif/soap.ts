// SOAP 1.2 calls for the parts of ONVIF the `onvif` package does not serve well (the event service:
// see pullpoint.ts for why). Every request carries a WS-Security UsernameToken with PasswordDigest
// whose Created is written in the camera's time (edge time + measured drift): a camera that checks
// Created against its own clock refuses a token from a clock far off. An HTTP digest challenge is
// answered too. Faults become CameraFailures: ter:NotAuthorized → onvif_auth; an unknown pull point
// (wsrf-rw:ResourceUnknownFault, wsa:DestinationUnreachable) → onvif_unknown_subscription.
import { createHash, randomBytes } from 'node:crypto';
import type { Agent } from 'node:http';
import type { Clock } from '../../../contracts/clock.js';
import { CameraFailure } from '../failure.js';
import { httpExchange, type Credentials } from './http.js';
import { child, esc, parseXml, path, text, XmlError, type XmlElement } from './xml.js';

export const SOAP_ENV = 'http://www.w3.org/2003/05/soap-envelope';
const WSSE = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd';
const WSU = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd';
const DIGEST_TYPE = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest';
const NONCE_TYPE = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary';

export interface SoapClientOptions {
  auth?: Credentials;
  clock: Clock;
  /** Camera clock − edge clock, ms (ClockDrift); read on every call, so a re-measured drift applies at once. */
  driftMs?: () => number;
  timeoutMs?: number;
  agent?: Agent;
}

export interface SoapCallOptions {
  /** Extra SOAP header blocks (WS-Addressing To / Action…). */
  header?: string;
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** Auth refusals by fault subcode local name (ONVIF ter:, WS-Security wsse:). */
const AUTH_SUBCODES = new Set(['NotAuthorized', 'FailedAuthentication', 'InvalidSecurity', 'InvalidSecurityToken', 'FailedCheck', 'SecurityTokenUnavailable']);
const UNKNOWN_SUBSCRIPTION = new Set(['ResourceUnknownFault', 'ResourceUnknown', 'DestinationUnreachable']);

export class SoapClient {
  constructor(private readonly o: SoapClientOptions) {}

  /** Posts `body` (one operation element) to `url`; returns the Body's first element. */
  async call(url: string, body: string, opts: SoapCallOptions = {}): Promise<XmlElement> {
    const header = (this.o.auth ? usernameToken(this.o.auth, this.o.clock.now() + (this.o.driftMs?.() ?? 0)) : '') + (opts.header ?? '');
    const xml = `<?xml version="1.0" encoding="UTF-8"?><s:Envelope xmlns:s="${SOAP_ENV}" xmlns:a="http://www.w3.org/2005/08/addressing"><s:Header>${header}</s:Header><s:Body>${body}</s:Body></s:Envelope>`;
    const res = await httpExchange(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/soap+xml; charset=utf-8' },
      body: xml,
      timeoutMs: opts.timeoutMs ?? this.o.timeoutMs ?? 10_000,
      signal: opts.signal,
      auth: this.o.auth,
      agent: this.o.agent,
    });
    const host = new URL(url).host;
    if (res.status === 401) throw new CameraFailure('onvif_auth', `${host} refused the credentials (HTTP 401)`);
    let env: XmlElement;
    try {
      env = parseXml(res.body.toString('utf8'));
    } catch (err) {
      const why = err instanceof XmlError ? err.message : String(err);
      throw new CameraFailure('onvif_bad_response', `${host} answered HTTP ${res.status} with something that is not XML: ${why}`);
    }
    if (env.local !== 'Envelope' || env.ns !== SOAP_ENV) throw new CameraFailure('onvif_bad_response', `${host} answered HTTP ${res.status} without a SOAP 1.2 envelope`);
    const fault = path(env, 'Body', 'Fault');
    if (fault) throw faultFailure(fault, host, res.status);
    const op = child(env, 'Body')?.children[0];
    if (!op) throw new CameraFailure('onvif_bad_response', `${host} answered HTTP ${res.status} with an empty SOAP Body`);
    if (res.status >= 300) throw new CameraFailure('onvif_bad_response', `${host} answered HTTP ${res.status}`);
    return op;
  }
}

/** The WS-Security header: Base64(SHA-1(nonce + Created + password)), Created in camera time. */
export function usernameToken(auth: Credentials, cameraNowMs: number, nonce: Buffer = randomBytes(16)): string {
  const created = new Date(cameraNowMs).toISOString();
  const digest = createHash('sha1')
    .update(Buffer.concat([nonce, Buffer.from(created, 'utf8'), Buffer.from(auth.password, 'utf8')]))
    .digest('base64');
  return (
    `<wsse:Security s:mustUnderstand="true" xmlns:wsse="${WSSE}" xmlns:wsu="${WSU}"><wsse:UsernameToken>` +
    `<wsse:Username>${esc(auth.username)}</wsse:Username>` +
    `<wsse:Password Type="${DIGEST_TYPE}">${digest}</wsse:Password>` +
    `<wsse:Nonce EncodingType="${NONCE_TYPE}">${nonce.toString('base64')}</wsse:Nonce>` +
    `<wsu:Created>${created}</wsu:Created></wsse:UsernameToken></wsse:Security>`
  );
}

function faultFailure(fault: XmlElement, host: string, status: number): CameraFailure {
  // Subcodes nest: Code/Value, Code/Subcode/Value, Code/Subcode/Subcode/Value…; the innermost is the most specific.
  const codes: string[] = [];
  let cur: XmlElement | undefined = child(fault, 'Code');
  while (cur) {
    const v = text(child(cur, 'Value'));
    if (v) codes.push(v);
    cur = child(cur, 'Subcode');
  }
  const locals = codes.map((c) => c.slice(c.indexOf(':') + 1));
  const reason = text(path(fault, 'Reason', 'Text')) ?? '';
  const detail = (text(path(fault, 'Detail', 'Text')) ?? '').slice(0, 200);
  const faultSubcode = codes[codes.length - 1];
  const faultDetail: Record<string, string> = {};
  const leaves = (e: XmlElement) => {
    if (e.children.length === 0) faultDetail[e.local] = e.text.trim();
    else e.children.forEach(leaves);
  };
  child(fault, 'Detail')?.children.forEach(leaves);
  const msg = `${host} answered a SOAP fault (HTTP ${status}) ${codes.join(' / ')}: ${reason}${detail ? ` — ${detail}` : ''}`;
  const o = { faultSubcode, faultDetail };
  if (locals.some((l) => AUTH_SUBCODES.has(l)) || /not authori[sz]ed/i.test(reason)) return new CameraFailure('onvif_auth', msg, o);
  if (locals.some((l) => UNKNOWN_SUBSCRIPTION.has(l))) return new CameraFailure('onvif_unknown_subscription', msg, o);
  return new CameraFailure('onvif_fault', msg, o);
}
