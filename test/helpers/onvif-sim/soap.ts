// SOAP 1.2 envelopes and faults as an ONVIF device writes them (ONVIF Core, 5.6 "Error handling":
// env:Sender / env:Receiver with ter: subcodes; HTTP 400 for a sender fault, 500 for a receiver one).
export const NS = {
  env: 'http://www.w3.org/2003/05/soap-envelope',
  soap11: 'http://schemas.xmlsoap.org/soap/envelope/',
  wsse: 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd',
  wsu: 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd',
  wsa: 'http://www.w3.org/2005/08/addressing',
  tt: 'http://www.onvif.org/ver10/schema',
  tds: 'http://www.onvif.org/ver10/device/wsdl',
  trt: 'http://www.onvif.org/ver10/media/wsdl',
  tev: 'http://www.onvif.org/ver10/events/wsdl',
  wsnt: 'http://docs.oasis-open.org/wsn/b-2',
  wstop: 'http://docs.oasis-open.org/wsn/t-1',
  wsrfrw: 'http://docs.oasis-open.org/wsrf/rw-2',
  wsrfbf: 'http://docs.oasis-open.org/wsrf/bf-2',
  ter: 'http://www.onvif.org/ver10/error',
  tns1: 'http://www.onvif.org/ver10/topics',
} as const;

const DECLS = Object.entries(NS)
  .filter(([p]) => p !== 'soap11')
  .map(([p, uri]) => `xmlns:${p === 'wsrfrw' ? 'wsrf-rw' : p === 'wsrfbf' ? 'wsrf-bf' : p}="${uri}"`)
  .join(' ');

export function envelope(body: string, header = ''): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<env:Envelope ${DECLS}>${header ? `<env:Header>${header}</env:Header>` : '<env:Header/>'}<env:Body>${body}</env:Body></env:Envelope>`;
}

export interface Fault {
  status: number;
  code: 'env:Sender' | 'env:Receiver' | 'env:VersionMismatch' | 'env:MustUnderstand';
  subcodes: string[];
  reason: string;
  detail?: string;
}

export function faultXml(f: Fault): string {
  const sub = f.subcodes.reduceRight((inner, code) => `<env:Subcode><env:Value>${code}</env:Value>${inner}</env:Subcode>`, '');
  return envelope(
    `<env:Fault><env:Code><env:Value>${f.code}</env:Value>${sub}</env:Code>` +
      `<env:Reason><env:Text xml:lang="en">${escapeText(f.reason)}</env:Text></env:Reason>` +
      (f.detail ? `<env:Detail>${f.detail}</env:Detail>` : '') +
      '</env:Fault>',
  );
}

export class SoapFault extends Error {
  constructor(readonly fault: Fault) {
    super(fault.reason);
  }
}

export const faults = {
  notAuthorized: (why: string): Fault => ({ status: 400, code: 'env:Sender', subcodes: ['ter:NotAuthorized'], reason: 'Sender not authorized', detail: `<env:Text xml:lang="en">${escapeText(why)}</env:Text>` }),
  wellFormed: (why: string): Fault => ({ status: 400, code: 'env:Sender', subcodes: ['ter:WellFormed'], reason: `XML not well-formed: ${why}` }),
  versionMismatch: (): Fault => ({ status: 400, code: 'env:VersionMismatch', subcodes: [], reason: 'SOAP 1.2 envelope expected' }),
  actionNotSupported: (action: string): Fault => ({ status: 500, code: 'env:Receiver', subcodes: ['ter:ActionNotSupported'], reason: `${action} is not supported` }),
  invalidArg: (sub: string, reason: string): Fault => ({ status: 400, code: 'env:Sender', subcodes: ['ter:InvalidArgVal', `ter:${sub}`], reason }),
  /** WS-ResourceFramework: the pull point / subscription addressed does not exist (any more). */
  resourceUnknown: (now: string): Fault => ({
    status: 400,
    code: 'env:Sender',
    subcodes: ['wsrf-rw:ResourceUnknownFault'],
    reason: 'Subscription is unknown',
    detail: `<wsrf-rw:ResourceUnknownFault><wsrf-bf:Timestamp>${now}</wsrf-bf:Timestamp></wsrf-rw:ResourceUnknownFault>`,
  }),
  /** WS-Addressing's fault for an endpoint that is not there, which some cameras send instead. */
  destinationUnreachable: (to: string): Fault => ({ status: 400, code: 'env:Sender', subcodes: ['wsa:DestinationUnreachable'], reason: `No route can be determined to reach ${to}` }),
  pullMessagesFault: (maxTimeout: string, maxLimit: number): Fault => ({
    status: 400,
    code: 'env:Sender',
    subcodes: ['ter:InvalidArgVal'],
    reason: 'PullMessages Timeout or MessageLimit too large',
    detail: `<tev:PullMessagesFaultResponse><tev:MaxTimeout>${maxTimeout}</tev:MaxTimeout><tev:MaxMessageLimit>${maxLimit}</tev:MaxMessageLimit></tev:PullMessagesFaultResponse>`,
  }),
};

export function escapeText(s: string | number | boolean): string {
  return String(s).replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);
}

/** xs:duration → ms (PT60S, PT1M, P0DT0H1M30.5S); undefined when it is not one. */
export function durationMs(s: string): number | undefined {
  const m = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(s.trim());
  if (!m || s.trim() === 'P' || s.trim().endsWith('T')) return undefined;
  const [, d, h, min, sec] = m;
  return ((Number(d ?? 0) * 24 + Number(h ?? 0)) * 60 + Number(min ?? 0)) * 60_000 + Math.round(Number(sec ?? 0) * 1000);
}

/** An xs:dateTime in UTC with milliseconds dropped, as cameras write it. */
export function isoSeconds(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}
