// The simulated camera's WS-Discovery target service (OASIS WS-Discovery, April 2005, as ONVIF Core §7
// uses it): it listens on UDP — in tests on 127.0.0.1 and a free port, so a Probe sent by unicast
// reaches it and nothing leaves loopback — and answers a matching Probe with a ProbeMatches sent by
// unicast to the sender. Written from the specification, independently of the client
// (edge/cameras/onvif/discovery.ts):
// - Types match by QName (namespace + local name, whatever the prefix): a Probe for
//   dn:NetworkVideoTransmitter or tds:Device matches, one for another type does not; no Types matches.
// - Scopes match by the RFC 3986 rule (the default MatchBy): each probed scope must be a segment-wise
//   prefix of one of the device's scopes.
// - The answer relates to the Probe's MessageID (wsa:RelatesTo) and waits a random moment first
//   (APP_MAX_DELAY, shortened for tests), as the spec asks of a device answering a multicast.
// Anything that is not a well-formed Probe is counted and ignored, never answered, never a crash.
import { randomUUID } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { child, parseXml, path, text, type XmlElement } from '../../../edge/cameras/onvif/xml.js';
import { escapeText as e } from './soap.js';

const WSD = 'http://schemas.xmlsoap.org/ws/2005/04/discovery';
const WSA = 'http://schemas.xmlsoap.org/ws/2004/08/addressing';
const DN = 'http://www.onvif.org/ver10/network/wsdl';
const TDS = 'http://www.onvif.org/ver10/device/wsdl';
const SOAP = 'http://www.w3.org/2003/05/soap-envelope';

export interface DiscoveryIdentity {
  /** urn:uuid:… — the device's endpoint reference. */
  endpoint: string;
  scopes: string[];
  /** Device-service URLs. */
  xaddrs: () => string[];
}

export interface DiscoveryProbe {
  from: string;
  matched: boolean;
  messageId?: string;
  why?: string;
}

export class DiscoveryResponder {
  port: number;
  readonly probes: DiscoveryProbe[] = [];
  /** Datagrams that were not a Probe (garbage, other messages). */
  ignored = 0;
  private socket?: Socket;
  private readonly maxDelayMs: number;

  constructor(
    private readonly id: DiscoveryIdentity,
    opts: { port?: number; maxDelayMs?: number } = {},
  ) {
    this.port = opts.port ?? 0;
    this.maxDelayMs = opts.maxDelayMs ?? 50;
  }

  async start(): Promise<this> {
    const socket = createSocket({ type: 'udp4' });
    socket.on('error', () => undefined);
    socket.on('message', (msg, rinfo) => this.onMessage(msg, rinfo.address, rinfo.port));
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind({ address: '127.0.0.1', port: this.port }, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    this.socket = socket;
    this.port = socket.address().port;
    return this;
  }

  async stop(): Promise<void> {
    const s = this.socket;
    this.socket = undefined;
    if (s) await new Promise<void>((r) => s.close(() => r()));
  }

  private onMessage(msg: Buffer, address: string, port: number): void {
    let env: XmlElement;
    try {
      env = parseXml(msg.toString('utf8'));
    } catch {
      this.ignored++;
      return;
    }
    const header = child(env, 'Header', SOAP);
    const probe = path(env, 'Body', 'Probe');
    const action = text(child(header, 'Action', WSA));
    if (env.local !== 'Envelope' || env.ns !== SOAP || !probe || probe.ns !== WSD || action !== `${WSD}/Probe`) {
      this.ignored++;
      return;
    }
    const messageId = text(child(header, 'MessageID', WSA));
    const why = this.mismatch(probe);
    this.probes.push({ from: `${address}:${port}`, matched: why === undefined, ...(messageId ? { messageId } : {}), ...(why ? { why } : {}) });
    if (why !== undefined || !messageId) return;
    const reply = Buffer.from(this.probeMatches(messageId));
    const delay = Math.floor(Math.random() * this.maxDelayMs);
    setTimeout(() => this.socket?.send(reply, port, address), delay);
  }

  /** Why this Probe does not match the device, or undefined when it does. */
  private mismatch(probe: XmlElement): string | undefined {
    const typesEl = child(probe, 'Types', WSD);
    const types = (text(typesEl) ?? '').split(/\s+/).filter(Boolean);
    if (types.length > 0) {
      const ours = types.some((qname) => {
        const c = qname.indexOf(':');
        const ns = typesEl!.scope.get(c < 0 ? '' : qname.slice(0, c));
        const local = qname.slice(c + 1);
        return (ns === DN && local === 'NetworkVideoTransmitter') || (ns === TDS && local === 'Device');
      });
      if (!ours) return `types ${types.join(' ')} do not match`;
    }
    const scopesEl = child(probe, 'Scopes', WSD);
    const matchBy = scopesEl?.attrs.find((a) => a.local === 'MatchBy')?.value;
    if (matchBy !== undefined && matchBy !== 'http://schemas.xmlsoap.org/ws/2005/04/discovery/rfc3986') return `MatchBy ${matchBy} is not supported`;
    const wanted = (text(scopesEl) ?? '').split(/\s+/).filter(Boolean);
    for (const w of wanted) {
      if (!this.id.scopes.some((s) => segmentPrefix(w, s))) return `scope ${w} does not match`;
    }
    return undefined;
  }

  private probeMatches(relatesTo: string): string {
    return (
      '<?xml version="1.0" encoding="UTF-8"?>' +
      `<SOAP-ENV:Envelope xmlns:SOAP-ENV="${SOAP}" xmlns:wsa="${WSA}" xmlns:wsd="${WSD}" xmlns:dn="${DN}" xmlns:tds="${TDS}">` +
      '<SOAP-ENV:Header>' +
      `<wsa:MessageID>urn:uuid:${randomUUID()}</wsa:MessageID>` +
      `<wsa:RelatesTo>${e(relatesTo)}</wsa:RelatesTo>` +
      `<wsa:To SOAP-ENV:mustUnderstand="true">${WSA}/role/anonymous</wsa:To>` +
      `<wsa:Action SOAP-ENV:mustUnderstand="true">${WSD}/ProbeMatches</wsa:Action>` +
      '</SOAP-ENV:Header>' +
      '<SOAP-ENV:Body><wsd:ProbeMatches><wsd:ProbeMatch>' +
      `<wsa:EndpointReference><wsa:Address>${e(this.id.endpoint)}</wsa:Address></wsa:EndpointReference>` +
      '<wsd:Types>dn:NetworkVideoTransmitter tds:Device</wsd:Types>' +
      `<wsd:Scopes>${this.id.scopes.map(e).join(' ')}</wsd:Scopes>` +
      `<wsd:XAddrs>${this.id.xaddrs().map(e).join(' ')}</wsd:XAddrs>` +
      '<wsd:MetadataVersion>1</wsd:MetadataVersion>' +
      '</wsd:ProbeMatch></wsd:ProbeMatches></SOAP-ENV:Body></SOAP-ENV:Envelope>'
    );
  }
}

/** RFC 3986 matching as WS-Discovery §5.1 defines it: same scheme and authority, path segments a prefix. */
function segmentPrefix(probe: string, scope: string): boolean {
  const split = (s: string) => {
    const m = /^([a-z][a-z0-9+.-]*):\/\/([^/]*)(.*)$/i.exec(s);
    return m ? { head: `${m[1]!.toLowerCase()}://${m[2]!.toLowerCase()}`, segs: m[3]!.split('/').filter(Boolean) } : { head: s, segs: [] };
  };
  const p = split(probe);
  const s = split(scope);
  return p.head === s.head && p.segs.length <= s.segs.length && p.segs.every((seg, i) => seg === s.segs[i]);
}
