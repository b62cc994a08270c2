// An ONVIF device simulator for tests: real SOAP 1.2 over HTTP on 127.0.0.1 (device, media and event
// services of Profile S), built from the ONVIF WSDL/XSD semantics rather than captured vendor replies.
// - Checks WS-Security UsernameToken digests against its own clock (clockOffsetMs sets how wrong that
//   clock is) and refuses a wrong one with a ter:NotAuthorized fault; or takes HTTP digest.
// - Its stream URI points wherever the test says (the real GStreamer RTSP stream); its snapshot URI
//   serves a JPEG from the `snapshot` source (ffmpeg grabbing a frame of that stream), behind HTTP digest.
// - Pull-point events with the topic names of the vendor it plays (vendors.ts); emit() raises one.
// - reboot() loses every subscription and drops every connection (optionally staying down a while).
// - With `discovery`, it answers WS-Discovery Probes on UDP 127.0.0.1 (discovery.ts): a test sends the
//   Probe by unicast to discoveryPort instead of the multicast group, so nothing leaves loopback.
// Nothing a client sends can crash it: malformed XML, SOAP 1.1, unknown actions all get SOAP faults.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { child, parseXml, text, XmlError, type XmlElement } from '../../../edge/cameras/onvif/xml.js';
import { Authenticator } from './auth.js';
import { deviceAction, mediaAction, type DeviceContext, type SimProfile } from './device.js';
import { DiscoveryResponder } from './discovery.js';
import { EventBroker } from './events.js';
import { durationMs, envelope, faults, faultXml, isoSeconds, NS, SoapFault, type Fault } from './soap.js';
import { VENDORS, type SimEventKind, type SimVendor } from './vendors.js';

export type { SimEventKind } from './vendors.js';
export type { SimProfile } from './device.js';

export interface OnvifSimOptions {
  vendor?: keyof typeof VENDORS;
  username?: string;
  password?: string;
  /** Overrides the vendor's: WS-Security only, HTTP digest only, or either. */
  auth?: SimVendor['auth'];
  /** Camera clock − real clock, ms. */
  clockOffsetMs?: number;
  /** Largest |Created − camera clock| a UsernameToken may have. Default 120 s. */
  createdWindowMs?: number;
  profiles?: SimProfile[];
  /** The RTSP URI GetStreamUri returns for a profile. */
  streamUri?: string | ((profileToken: string) => string);
  /** JPEG bytes for the snapshot URI. */
  snapshot?: () => Promise<Buffer>;
  /** Longest PullMessages Timeout accepted. Default PT60S. */
  maxPullTimeoutMs?: number;
  maxMessageLimit?: number;
  /** Prefix the topics are written with (tns1 by default; any prefix bound to the topic namespace). */
  topicPrefix?: string;
  /** Overrides the vendor's fault for an unknown subscription. */
  unknownSubscription?: SimVendor['unknownSubscription'];
  /** Operations answered without credentials (ONVIF Core's PRE_AUTH class by default). */
  preAuth?: string[];
  /** Answer WS-Discovery Probes on UDP 127.0.0.1 (a free port, or this one). */
  discovery?: boolean | { port?: number };
  /** The name scope it announces (onvif://www.onvif.org/name/…); default the vendor's manufacturer. */
  name?: string;
}

/** Broken replies a test can ask for: an HTML error page, XML cut off mid-way, an envelope with an empty Body. */
export type Garble = 'html' | 'truncated' | 'empty-body';

export interface SimRequest {
  path: string;
  action: string;
  /** Status sent. */
  status: number;
  auth: 'ok' | 'refused' | 'pre-auth';
  via?: string;
  why?: string;
}

const PRE_AUTH = ['GetSystemDateAndTime', 'GetCapabilities', 'GetServices', 'GetServiceCapabilities', 'GetWsdlUrl', 'GetHostname', 'GetEndpointReference'];
const MAX_BODY = 1024 * 1024;

export const DEFAULT_PROFILES: SimProfile[] = [
  { token: 'Profile_1', name: 'mainStream', width: 320, height: 240, fps: 10, bitrateKbps: 256, gop: 10, encoding: 'H264' },
  { token: 'Profile_2', name: 'subStream', width: 320, height: 240, fps: 10, bitrateKbps: 128, gop: 10, encoding: 'H264' },
];

export class OnvifSimulator {
  port = 0;
  readonly requests: SimRequest[] = [];
  /** Times reboot() ran. */
  boots = 0;
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  private readonly vendor: SimVendor;
  private auth: Authenticator;
  private broker: EventBroker;
  private clockOffsetMs: number;
  private readonly serial = `SIM${Math.floor(Math.random() * 1e9)}`;
  private snapshotCache?: { at: number; jpeg: Promise<Buffer> };
  private readonly garbled = new Map<string, Garble>();
  /** The WS-Discovery responder, when `discovery` is on. */
  readonly discovery?: DiscoveryResponder;
  /** Its endpoint reference, stable for the simulator's life (a camera keeps its uuid across reboots). */
  readonly endpoint = `urn:uuid:${randomUUID()}`;

  constructor(private readonly o: OnvifSimOptions = {}) {
    this.vendor = VENDORS[o.vendor ?? 'onvif'];
    this.clockOffsetMs = o.clockOffsetMs ?? 0;
    this.auth = this.newAuthenticator();
    this.broker = new EventBroker(this.vendor, () => this.cameraNow(), o.topicPrefix);
    if (o.discovery) {
      const name = encodeURIComponent(o.name ?? this.vendor.manufacturer);
      this.discovery = new DiscoveryResponder(
        {
          endpoint: this.endpoint,
          scopes: [
            'onvif://www.onvif.org/type/video_encoder',
            'onvif://www.onvif.org/type/Network_Video_Transmitter',
            'onvif://www.onvif.org/Profile/Streaming',
            `onvif://www.onvif.org/hardware/${encodeURIComponent(this.vendor.model)}`,
            `onvif://www.onvif.org/name/${name}`,
            'onvif://www.onvif.org/location/country/china',
          ],
          xaddrs: () => [this.deviceUrl],
        },
        typeof o.discovery === 'object' && o.discovery.port !== undefined ? { port: o.discovery.port } : {},
      );
    }
  }

  /** The UDP port answering WS-Discovery Probes (0 without `discovery`). */
  get discoveryPort(): number {
    return this.discovery?.port ?? 0;
  }

  get base(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get deviceUrl(): string {
    return `${this.base}/onvif/device_service`;
  }

  get subscriptions(): number {
    return this.broker.size;
  }

  cameraNow(): number {
    return Date.now() + this.clockOffsetMs;
  }

  setClockOffset(ms: number): void {
    this.clockOffsetMs = ms;
  }

  async start(): Promise<this> {
    const server = createServer((req, res) => void this.handle(req, res));
    server.on('connection', (s) => {
      this.sockets.add(s);
      s.once('close', () => this.sockets.delete(s));
    });
    server.keepAliveTimeout = 5000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.server = server;
    const addr = server.address();
    this.port = typeof addr === 'object' && addr ? addr.port : this.port;
    await this.discovery?.start();
    return this;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    this.broker.reset();
    for (const s of this.sockets) s.destroy();
    await this.discovery?.stop();
    if (server) await new Promise<void>((r) => server.close(() => r()));
  }

  /** The camera detects (or stops detecting) something: every pull point gets a Changed message. */
  emit(kind: SimEventKind, active: boolean): void {
    this.broker.emit(kind, active);
  }

  /**
   * Power cycle: subscriptions and nonces are lost, open connections drop; with `downMs` the device
   * answers nothing (connection refused) for that long; `clockOffsetMs` is the clock it comes back with.
   */
  async reboot(opts: { downMs?: number; clockOffsetMs?: number } = {}): Promise<void> {
    this.boots++;
    this.broker.reset();
    this.auth = this.newAuthenticator();
    if (opts.clockOffsetMs !== undefined) this.clockOffsetMs = opts.clockOffsetMs;
    if (opts.downMs) {
      await this.stop();
      await new Promise((r) => setTimeout(r, opts.downMs));
      await this.start();
    } else {
      for (const s of this.sockets) s.destroy();
    }
  }

  /** From now on, answer `action` with a broken reply (undefined: answer it properly again). */
  garble(action: string, how: Garble | undefined): void {
    if (how) this.garbled.set(action, how);
    else this.garbled.delete(action);
  }

  /** Requests of one action (in order). */
  seen(action: string): SimRequest[] {
    return this.requests.filter((r) => r.action === action);
  }

  private newAuthenticator(): Authenticator {
    return new Authenticator({
      username: this.o.username ?? 'admin',
      password: this.o.password ?? 'admin123',
      mode: this.o.auth ?? this.vendor.auth,
      createdWindowMs: this.o.createdWindowMs ?? 120_000,
      realm: `${this.vendor.manufacturer} Camera`,
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0]!;
    let log: SimRequest = { path, action: '?', status: 200, auth: 'pre-auth' };
    try {
      if (req.method === 'GET' && path.startsWith('/onvif/snapshot/')) return await this.snapshot(req, res, path);
      if (req.method !== 'POST') return this.send(res, 405, 'text/plain', 'POST SOAP here', { ...log, action: req.method ?? '?' });
      const raw = await readBody(req);
      if (raw === undefined) return this.sendFault(res, { status: 413, code: 'env:Sender', subcodes: [], reason: 'request too large' }, log);
      let env: XmlElement;
      try {
        env = parseXml(raw);
      } catch (err) {
        return this.sendFault(res, faults.wellFormed(err instanceof XmlError ? err.message : String(err)), log);
      }
      if (env.local !== 'Envelope' || env.ns !== NS.env) return this.sendFault(res, faults.versionMismatch(), log);
      const header = child(env, 'Header', NS.env);
      const body = child(env, 'Body', NS.env);
      const op = body?.children[0];
      if (!body || !op) return this.sendFault(res, faults.wellFormed('no operation in the Body'), log);
      log = { ...log, action: op.local };
      if (!(this.o.preAuth ?? PRE_AUTH).includes(op.local)) {
        const outcome = this.auth.check(req, header, this.cameraNow());
        if (!outcome.ok) {
          log = { ...log, auth: 'refused', via: outcome.via, why: outcome.why };
          if (outcome.via === 'digest') {
            res.setHeader('WWW-Authenticate', outcome.challenge);
            return this.sendFault(res, { ...faults.notAuthorized(outcome.why), status: 401 }, log);
          }
          return this.sendFault(res, faults.notAuthorized(outcome.why), log);
        }
        log = { ...log, auth: 'ok', via: outcome.via };
      }
      const garble = this.garbled.get(op.local);
      if (garble === 'html') return this.send(res, 200, 'text/html', '<html><body><h1>500 Internal Server Error</h1></body></html>', log);
      if (garble === 'truncated') return this.send(res, 200, 'application/soap+xml', envelope('<tds:GetDeviceInformationResponse><tds:Manufacturer>HIK').slice(0, -40), log);
      if (garble === 'empty-body') return this.send(res, 200, 'application/soap+xml', envelope(''), log);
      const reply = await this.dispatch(path, op.local, op, body, req);
      this.send(res, 200, 'application/soap+xml; charset=utf-8', envelope(reply), log);
    } catch (err) {
      if (err instanceof SoapFault) return this.sendFault(res, err.fault, log);
      this.sendFault(res, { status: 500, code: 'env:Receiver', subcodes: [], reason: `simulator error: ${String(err)}` }, log);
    }
  }

  private async dispatch(path: string, action: string, op: XmlElement, body: XmlElement, req: IncomingMessage): Promise<string> {
    const ctx: DeviceContext = {
      vendor: this.vendor,
      serial: this.serial,
      base: this.base,
      cameraNow: this.cameraNow(),
      tzOffsetMin: 480,
      profiles: this.o.profiles ?? DEFAULT_PROFILES,
      streamUri: (token) => (typeof this.o.streamUri === 'function' ? this.o.streamUri(token) : (this.o.streamUri ?? `rtsp://127.0.0.1:554/${token}`)),
    };
    if (path === '/onvif/device_service') return deviceAction(action, ctx);
    if (path === '/onvif/media_service') return mediaAction(action, body, ctx);
    if (path === '/onvif/event_service') return this.eventService(action, op);
    const m = /^\/onvif\/subscription\/([\w-]+)$/.exec(path);
    if (m) return this.subscriptionManager(action, op, m[1]!, req);
    throw new SoapFault(faults.actionNotSupported(`${action} at ${path}`));
  }

  private eventService(action: string, op: XmlElement): string {
    const now = this.cameraNow();
    switch (action) {
      case 'CreatePullPointSubscription': {
        const termination = terminationFrom(text(child(op, 'InitialTerminationTime')), now) ?? 60_000;
        const sub = this.broker.create(termination);
        return (
          '<tev:CreatePullPointSubscriptionResponse><tev:SubscriptionReference>' +
          `<wsa:Address>${this.base}/onvif/subscription/${sub.id}</wsa:Address></tev:SubscriptionReference>` +
          `<wsnt:CurrentTime>${isoSeconds(now)}</wsnt:CurrentTime><wsnt:TerminationTime>${isoSeconds(sub.terminationAt)}</wsnt:TerminationTime>` +
          '</tev:CreatePullPointSubscriptionResponse>'
        );
      }
      case 'GetServiceCapabilities':
        return '<tev:GetServiceCapabilitiesResponse><tev:Capabilities WSSubscriptionPolicySupport="false" WSPullPointSupport="true" WSPausableSubscriptionManagerInterfaceSupport="false" MaxNotificationProducers="0" MaxPullPoints="10"/></tev:GetServiceCapabilitiesResponse>';
      default:
        throw new SoapFault(faults.actionNotSupported(action));
    }
  }

  private async subscriptionManager(action: string, op: XmlElement, id: string, req: IncomingMessage): Promise<string> {
    const sub = this.broker.get(id);
    if (!sub) {
      const kind = this.o.unknownSubscription ?? this.vendor.unknownSubscription;
      throw new SoapFault(kind === 'destination-unreachable' ? faults.destinationUnreachable(`${this.base}/onvif/subscription/${id}`) : faults.resourceUnknown(isoSeconds(this.cameraNow())));
    }
    switch (action) {
      case 'PullMessages': {
        const timeout = durationMs(text(child(op, 'Timeout')) ?? '');
        const limit = Number(text(child(op, 'MessageLimit')));
        const maxTimeout = this.o.maxPullTimeoutMs ?? 60_000;
        const maxLimit = this.o.maxMessageLimit ?? 100;
        if (timeout === undefined || !Number.isInteger(limit) || limit < 1) throw new SoapFault(faults.invalidArg('InvalidArgVal', 'Timeout and MessageLimit are required'));
        if (timeout > maxTimeout || limit > maxLimit) throw new SoapFault(faults.pullMessagesFault(`PT${maxTimeout / 1000}S`, maxLimit));
        const closed = new Promise<void>((resolve) => req.socket.once('close', () => resolve()));
        const msgs = await this.broker.pull(sub, timeout, limit, closed);
        const now = this.cameraNow();
        return (
          `<tev:PullMessagesResponse><tev:CurrentTime>${isoSeconds(now)}</tev:CurrentTime><tev:TerminationTime>${isoSeconds(sub.terminationAt)}</tev:TerminationTime>` +
          msgs.map((m) => this.broker.messageXml(m)).join('') +
          '</tev:PullMessagesResponse>'
        );
      }
      case 'Renew': {
        const now = this.cameraNow();
        const termination = terminationFrom(text(child(op, 'TerminationTime')), now);
        if (termination === undefined) throw new SoapFault({ status: 400, code: 'env:Sender', subcodes: ['wsnt:UnacceptableTerminationTimeFault'], reason: 'TerminationTime is required' });
        this.broker.renew(sub, termination);
        return `<wsnt:RenewResponse><wsnt:TerminationTime>${isoSeconds(sub.terminationAt)}</wsnt:TerminationTime><wsnt:CurrentTime>${isoSeconds(now)}</wsnt:CurrentTime></wsnt:RenewResponse>`;
      }
      case 'Unsubscribe':
        this.broker.unsubscribe(id);
        return '<wsnt:UnsubscribeResponse/>';
      case 'SetSynchronizationPoint':
        return '<tev:SetSynchronizationPointResponse/>';
      default:
        throw new SoapFault(faults.actionNotSupported(action));
    }
  }

  private async snapshot(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const log: SimRequest = { path, action: 'GET snapshot', status: 200, auth: 'ok' };
    const outcome = this.auth.checkDigest(req);
    if (!outcome.ok) {
      if (outcome.via === 'digest') res.setHeader('WWW-Authenticate', outcome.challenge);
      return this.send(res, 401, 'text/plain', 'Unauthorized', { ...log, auth: 'refused', why: outcome.why });
    }
    if (!this.o.snapshot) return this.send(res, 404, 'text/plain', 'no snapshot source', log);
    if (!this.snapshotCache || Date.now() - this.snapshotCache.at > 5000) this.snapshotCache = { at: Date.now(), jpeg: this.o.snapshot() };
    try {
      const jpeg = await this.snapshotCache.jpeg;
      this.send(res, 200, 'image/jpeg', jpeg, log);
    } catch (err) {
      this.snapshotCache = undefined;
      this.send(res, 503, 'text/plain', `snapshot failed: ${String(err)}`, log);
    }
  }

  private sendFault(res: ServerResponse, f: Fault, log: SimRequest): void {
    this.send(res, f.status, 'application/soap+xml; charset=utf-8', faultXml(f), log);
  }

  private send(res: ServerResponse, status: number, type: string, body: string | Buffer, log: SimRequest): void {
    this.requests.push({ ...log, status });
    if (res.destroyed || res.headersSent) return;
    res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  }
}

function readBody(req: IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        resolve(undefined);
        req.resume();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(size > MAX_BODY ? undefined : Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** A TerminationTime as a duration (PT60S) or an absolute dateTime, as ms from now. */
function terminationFrom(v: string | undefined, now: number): number | undefined {
  if (!v) return undefined;
  const d = durationMs(v);
  if (d !== undefined) return d;
  const at = Date.parse(v);
  return Number.isFinite(at) ? Math.max(0, at - now) : undefined;
}
