// WS-Discovery (OASIS WS-Discovery, April 2005 — the version ONVIF Core §7 uses): a Probe for
// dn:NetworkVideoTransmitter sent over UDP, by default to the multicast group 239.255.255.250:3702 on
// the edge's network; every ONVIF device that hears it answers a ProbeMatches by unicast with its
// endpoint reference, scopes (model, name, location) and XAddrs (the device-service URLs).
//
// A small sender of our own rather than the `onvif` package's Discovery: that one always sends to the
// multicast group (a test could not keep its traffic on loopback, nor an installer probe one camera
// across a router), shares one socket process-wide and reports unparseable answers as errors.
// Answers are read with the strict XML reader (xml.ts); garbage on the port is ignored.
import { randomUUID } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { isIP } from 'node:net';
import { GsError } from '../../../contracts/errors.js';
import { child, parseXml, path, text, type XmlElement } from './xml.js';

export const WS_DISCOVERY_GROUP = '239.255.255.250';
export const WS_DISCOVERY_PORT = 3702;

const WSD = 'http://schemas.xmlsoap.org/ws/2005/04/discovery';
const WSA = 'http://schemas.xmlsoap.org/ws/2004/08/addressing';
const PROBE_ACTION = `${WSD}/Probe`;
const MATCHES_ACTION = `${WSD}/ProbeMatches`;

export interface DiscoveredCamera {
  /** The IP address the answer came from. */
  address: string;
  /** The device's endpoint reference (urn:uuid:…): stable across reboots and address changes. */
  endpoint: string;
  /** Device-service URLs: where OnvifCamera connects. */
  xaddrs: string[];
  types: string[];
  scopes: string[];
  /** From the scope onvif://www.onvif.org/hardware/<model>. */
  model?: string;
  /** From the scope onvif://www.onvif.org/name/<name> (often the manufacturer). */
  name?: string;
  /** From onvif://www.onvif.org/location/…, joined with '/'. */
  location?: string;
}

export interface DiscoverOptions {
  /** How long to listen for answers, ms. Default 3000. */
  timeoutMs?: number;
  /** Local IPv4 address to send from (the interface facing the cameras). Default: the system's choice. */
  interface?: string;
  /** Where the Probe goes: `host:port`. Default the multicast group 239.255.255.250:3702; a unicast address probes one device. */
  target?: string;
  /** Times the Probe is sent (UDP may drop one). Default 2. */
  repeat?: number;
  signal?: AbortSignal;
}

/** The Probe message (SOAP 1.2 over UDP). */
export function probeMessage(messageId: string): string {
  return (
    '<?xml version="1.0" encoding="UTF-8"?>' +
    `<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="${WSA}" xmlns:d="${WSD}" xmlns:dn="http://www.onvif.org/ver10/network/wsdl">` +
    '<s:Header>' +
    `<a:Action s:mustUnderstand="1">${PROBE_ACTION}</a:Action>` +
    `<a:MessageID>${messageId}</a:MessageID>` +
    `<a:ReplyTo><a:Address>${WSA}/role/anonymous</a:Address></a:ReplyTo>` +
    '<a:To s:mustUnderstand="1">urn:schemas-xmlsoap-org:ws:2005:04:discovery</a:To>' +
    '</s:Header>' +
    '<s:Body><d:Probe><d:Types>dn:NetworkVideoTransmitter</d:Types></d:Probe></s:Body>' +
    '</s:Envelope>'
  );
}

/** `host:port` → its parts; the multicast group when undefined. */
export function parseTarget(target: string | undefined): { host: string; port: number } {
  if (target === undefined) return { host: WS_DISCOVERY_GROUP, port: WS_DISCOVERY_PORT };
  const m = /^([^:\s]+)(?::(\d{1,5}))?$/.exec(target.trim());
  const port = m?.[2] === undefined ? WS_DISCOVERY_PORT : Number(m[2]);
  if (!m || isIP(m[1]!) !== 4 || port < 1 || port > 65535) {
    throw new GsError('GS_ERR_VALIDATION', `target "${target}" is not an IPv4 address with an optional port (e.g. 192.168.1.64 or 127.0.0.1:3702)`);
  }
  return { host: m[1]!, port };
}

/** Sends the Probe and collects the ProbeMatches that answer it, one entry per device. */
export async function discoverCameras(o: DiscoverOptions = {}): Promise<DiscoveredCamera[]> {
  const { host, port } = parseTarget(o.target);
  const timeoutMs = o.timeoutMs ?? 3000;
  if (!(timeoutMs > 0)) throw new GsError('GS_ERR_VALIDATION', 'the timeout must be longer than 0');
  if (o.interface !== undefined && isIP(o.interface) !== 4) throw new GsError('GS_ERR_VALIDATION', `interface "${o.interface}" is not an IPv4 address of this machine`);
  const messageId = `urn:uuid:${randomUUID()}`;
  const found = new Map<string, DiscoveredCamera>();
  const socket = createSocket({ type: 'udp4', reuseAddr: true });
  try {
    await bind(socket, o.interface);
    if (isMulticast(host) && o.interface) socket.setMulticastInterface(o.interface);
    socket.on('message', (msg, rinfo) => {
      for (const cam of readProbeMatches(msg.toString('utf8'), messageId, rinfo.address)) {
        const key = cam.endpoint || cam.xaddrs.join(' ') || cam.address;
        if (!found.has(key)) found.set(key, cam);
      }
    });
    const message = Buffer.from(probeMessage(messageId));
    const repeat = Math.max(1, o.repeat ?? 2);
    for (let i = 0; i < repeat; i++) {
      if (i > 0) await sleep(Math.min(200, timeoutMs / (repeat + 1)), o.signal);
      await send(socket, message, port, host, o.interface);
    }
    await sleep(timeoutMs, o.signal);
  } finally {
    socket.close();
  }
  return [...found.values()].sort((a, b) => compareIp(a.address, b.address) || a.endpoint.localeCompare(b.endpoint));
}

/**
 * The devices of one ProbeMatches message, when it answers `messageId` (an answer naming another
 * probe — another client's on the same network — is not ours). Anything else yields nothing.
 */
export function readProbeMatches(xml: string, messageId: string, from: string): DiscoveredCamera[] {
  let env: XmlElement;
  try {
    env = parseXml(xml);
  } catch {
    return [];
  }
  const header = child(env, 'Header');
  const relatesTo = text(child(header, 'RelatesTo'));
  if (relatesTo !== undefined && relatesTo !== messageId) return [];
  const action = text(child(header, 'Action'));
  if (action !== undefined && action !== MATCHES_ACTION) return [];
  const matches = path(env, 'Body', 'ProbeMatches');
  if (!matches) return [];
  return matches.children
    .filter((m) => m.local === 'ProbeMatch')
    .map((m) => {
      const list = (local: string) => (text(child(m, local)) ?? '').split(/\s+/).filter(Boolean);
      const scopes = list('Scopes');
      const cam: DiscoveredCamera = {
        address: from,
        endpoint: text(path(m, 'EndpointReference', 'Address')) ?? '',
        xaddrs: list('XAddrs'),
        types: list('Types'),
        scopes,
      };
      const model = scopeValue(scopes, 'hardware');
      const name = scopeValue(scopes, 'name');
      const location = scopeValue(scopes, 'location', true);
      if (model) cam.model = model;
      if (name) cam.name = name;
      if (location) cam.location = location;
      return cam;
    });
}

/** The value of an onvif://www.onvif.org/<key>/<value> scope, percent-decoded. */
function scopeValue(scopes: string[], key: string, all = false): string | undefined {
  const prefix = `onvif://www.onvif.org/${key}/`;
  const hits = scopes.filter((s) => s.toLowerCase().startsWith(prefix.toLowerCase())).map((s) => decode(s.slice(prefix.length)));
  if (hits.length === 0) return undefined;
  return all ? hits.join(', ') : hits[0];
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function isMulticast(ip: string): boolean {
  const first = Number(ip.split('.')[0]);
  return first >= 224 && first <= 239;
}

function compareIp(a: string, b: string): number {
  const n = (ip: string) => ip.split('.').reduce((acc, x) => acc * 256 + Number(x), 0);
  return n(a) - n(b);
}

function bind(socket: Socket, address: string | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      reject(new GsError('GS_ERR_VALIDATION', `cannot listen on ${address ?? 'any address'}: ${err.code ?? err.message}${err.code === 'EADDRNOTAVAIL' ? ' (not an address of this machine)' : ''}`));
    };
    socket.once('error', onError);
    socket.bind({ port: 0, ...(address ? { address } : {}) }, () => {
      socket.off('error', onError);
      // Later socket errors (an ICMP port unreachable on Linux) must not take the process down.
      socket.on('error', () => undefined);
      resolve();
    });
  });
}

function send(socket: Socket, message: Buffer, port: number, host: string, iface: string | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.send(message, port, host, (err) => {
      if (!err) return resolve();
      const code = (err as NodeJS.ErrnoException).code ?? err.message;
      const hint = isMulticast(host) && !iface ? ' (no route for multicast: name the interface facing the cameras with --interface <its IPv4 address>)' : '';
      reject(new GsError('GS_ERR_DEVICE_UNREACHABLE', `cannot send the WS-Discovery probe to ${host}:${port}: ${code}${hint}`));
    });
  });
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
  });
}
