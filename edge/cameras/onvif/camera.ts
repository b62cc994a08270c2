// One ONVIF camera: device information, media profiles, stream and snapshot URIs through the `onvif`
// package (WS-Security UsernameToken, HTTP digest when the camera asks for it), the camera's clock
// drift, snapshots, and its events through a self-healing PullPoint subscription (pullpoint.ts, direct
// SOAP — see there for why).
//
// The package's connect() is not used: it also calls GetVideoSources and then getActiveSources(),
// which throws from inside a response callback when a camera's profiles do not name its video sources
// (an uncaught exception would take the edge down). connect() here asks only what it needs.
import { Agent } from 'node:http';
import onvif from 'onvif';
import type { Cam as CamType, CamProfile } from 'onvif';
import { systemClock, type Clock } from '../../../contracts/clock.js';
import { silentLogger, type Logger } from '../../log.js';
import { systemScheduler, type Scheduler } from '../../scheduler.js';
import { CameraFailure, isCameraFailure } from '../failure.js';
import { httpExchange, type Credentials } from './http.js';
import { PullPointSubscriber, type PullPointOptions } from './pullpoint.js';
import { SoapClient } from './soap.js';
import { topicRules } from './topics.js';

const { Cam } = onvif;

export interface OnvifCameraOptions {
  host: string;
  /** HTTP port of the ONVIF device service. Default 80. */
  port?: number;
  /** Default /onvif/device_service. */
  path?: string;
  username?: string;
  password?: string;
  /** Per request. Default 10 s. */
  timeoutMs?: number;
  /** Use host and port from here for every service, whatever addresses the camera advertises (NAT). */
  preserveAddress?: boolean;
  /** Topic-map vendor (topics.yaml): onvif, hikvision, dahua, uniview. */
  vendor?: string;
  clock?: Clock;
  scheduler?: Scheduler;
  logger?: Logger;
}

export interface DeviceInfo {
  manufacturer: string;
  model: string;
  firmwareVersion: string;
  serialNumber: string;
  hardwareId: string;
}

export interface MediaProfile {
  token: string;
  name: string;
  encoding?: string;
  width?: number;
  height?: number;
  fps?: number;
  bitrateKbps?: number;
  /** Frames between keyframes (GovLength), when the camera says. */
  gop?: number;
}

export interface ClockDrift {
  /** Camera clock − edge clock, ms (positive: the camera is ahead). ±1 s: cameras report whole seconds. */
  driftMs: number;
  cameraTime: number;
  edgeTime: number;
  roundTripMs: number;
}

export class OnvifCamera {
  private readonly cam: CamType;
  private readonly agent = new Agent({ keepAlive: false });
  private readonly clock: Clock;
  private readonly timeoutMs: number;
  private driftMs = 0;
  private connected = false;
  private readonly subscribers = new Set<PullPointSubscriber>();

  constructor(private readonly o: OnvifCameraOptions) {
    this.clock = o.clock ?? systemClock;
    this.timeoutMs = o.timeoutMs ?? 10_000;
    this.cam = new Cam({
      hostname: o.host,
      port: o.port ?? 80,
      path: o.path ?? '/onvif/device_service',
      username: o.username,
      password: o.password,
      timeout: this.timeoutMs,
      autoconnect: false,
      preserveAddress: o.preserveAddress ?? false,
      agent: this.agent,
    });
    // The package emits 'warning' / 'eventsError'; unheard, an 'error' would throw.
    this.cam.on('error', () => undefined);
  }

  /** Measures the clock drift and finds the services (GetServices, else GetCapabilities). */
  async connect(): Promise<{ driftMs: number; services: Record<string, string> }> {
    await this.clockDrift();
    try {
      await this.req('GetServices', (cb) => this.cam.getServices(true, cb));
    } catch (err) {
      if (isCameraFailure(err) && (err.unreachable || err.reason === 'onvif_auth')) throw err;
      await this.req('GetCapabilities', (cb) => this.cam.getCapabilities(cb));
    }
    const uri = this.cam.uri ?? {};
    if (!uri.media) throw new CameraFailure('onvif_bad_response', `${this.o.host} advertises no media service`);
    this.connected = true;
    const services = Object.fromEntries(Object.entries(uri).flatMap(([k, v]) => (v?.href ? [[k, v.href]] : [])));
    return { driftMs: this.driftMs, services };
  }

  /** GetSystemDateAndTime (unauthenticated where the camera allows): camera time − edge time. */
  async clockDrift(): Promise<ClockDrift> {
    const t0 = this.clock.now();
    const cameraDate = await this.req<Date>('GetSystemDateAndTime', (cb) => this.cam.getSystemDateAndTime(cb));
    const t1 = this.clock.now();
    if (!(cameraDate instanceof Date) || !Number.isFinite(cameraDate.getTime())) throw new CameraFailure('onvif_bad_response', 'GetSystemDateAndTime gave no UTC time');
    // Cameras report whole seconds: the true time lies in [T, T + 1 s); take the middle.
    const cameraTime = cameraDate.getTime() + 500;
    const edgeTime = Math.round((t0 + t1) / 2);
    this.driftMs = cameraTime - edgeTime;
    // The package writes WS-Security Created as process uptime + timeShift: make that camera time.
    this.cam.timeShift = Date.now() + this.driftMs - process.uptime() * 1000;
    return { driftMs: this.driftMs, cameraTime, edgeTime, roundTripMs: t1 - t0 };
  }

  async deviceInformation(): Promise<DeviceInfo> {
    await this.ensureConnected();
    const d = await this.req<Record<string, unknown>>('GetDeviceInformation', (cb) => this.cam.getDeviceInformation(cb));
    const s = (k: string) => (d?.[k] === undefined ? '' : String(d[k]));
    return { manufacturer: s('manufacturer'), model: s('model'), firmwareVersion: s('firmwareVersion'), serialNumber: s('serialNumber'), hardwareId: s('hardwareId') };
  }

  async profiles(): Promise<MediaProfile[]> {
    await this.ensureConnected();
    const list = await this.req<CamProfile[]>('GetProfiles', (cb) => this.cam.getProfiles(cb));
    if (!Array.isArray(list)) throw new CameraFailure('onvif_bad_response', 'GetProfiles gave no profile list');
    return list.map(toProfile);
  }

  /** The RTSP URI of a profile (the first one when none is named). */
  async streamUri(profileToken?: string): Promise<string> {
    const token = profileToken ?? (await this.firstProfile());
    const r = await this.req<{ uri?: string }>('GetStreamUri', (cb) => this.cam.getStreamUri({ protocol: 'RTSP', stream: 'RTP-Unicast', profileToken: token }, cb));
    if (!r?.uri) throw new CameraFailure('onvif_bad_response', 'GetStreamUri gave no URI');
    return String(r.uri);
  }

  async snapshotUri(profileToken?: string): Promise<string> {
    const token = profileToken ?? (await this.firstProfile());
    const r = await this.req<{ uri?: string }>('GetSnapshotUri', (cb) => this.cam.getSnapshotUri({ profileToken: token }, cb));
    if (!r?.uri) throw new CameraFailure('onvif_bad_response', 'GetSnapshotUri gave no URI');
    return String(r.uri);
  }

  /** A JPEG from the snapshot URI (HTTP digest when the camera asks). */
  async snapshot(profileToken?: string, opts: { signal?: AbortSignal; maxBytes?: number } = {}): Promise<Buffer> {
    const uri = await this.snapshotUri(profileToken);
    const res = await httpExchange(uri, { method: 'GET', timeoutMs: this.timeoutMs, signal: opts.signal, auth: this.credentials(), agent: this.agent, maxBytes: opts.maxBytes ?? 8 * 1024 * 1024 });
    if (res.status === 401) throw new CameraFailure('onvif_auth', `snapshot ${new URL(uri).host} refused the credentials (HTTP 401)`);
    if (res.status !== 200) throw new CameraFailure('onvif_bad_response', `snapshot answered HTTP ${res.status}`);
    if (res.body.length < 4 || res.body[0] !== 0xff || res.body[1] !== 0xd8) throw new CameraFailure('onvif_bad_response', 'snapshot is not a JPEG');
    return res.body;
  }

  /**
   * A PullPoint subscription delivering this camera's events; start() it. stop() it (or close() the
   * camera) when done.
   */
  async events(opts: Pick<PullPointOptions, 'onEvent' | 'onStatus' | 'pullTimeoutS' | 'messageLimit' | 'terminationS' | 'renewMarginS' | 'backoff' | 'random'> & { scheduler?: Scheduler; logger?: Logger }): Promise<PullPointSubscriber> {
    await this.ensureConnected();
    const events = this.cam.uri?.events?.href;
    if (!events) throw new CameraFailure('onvif_bad_response', `${this.o.host} advertises no event service`);
    const soap = new SoapClient({ auth: this.credentials(), clock: this.clock, driftMs: () => this.driftMs, timeoutMs: this.timeoutMs, agent: this.agent });
    const sub = new PullPointSubscriber({
      ...opts,
      eventsUrl: events,
      soap,
      rules: topicRules(this.o.vendor ?? 'onvif'),
      clock: this.clock,
      scheduler: opts.scheduler ?? this.o.scheduler ?? systemScheduler,
      logger: opts.logger ?? this.o.logger ?? silentLogger(),
      refreshDrift: async () => {
        await this.clockDrift();
      },
    });
    this.subscribers.add(sub);
    return sub;
  }

  /** Stops every subscription made here and closes the camera's sockets. */
  async close(): Promise<void> {
    await Promise.all([...this.subscribers].map((s) => s.stop()));
    this.subscribers.clear();
    this.agent.destroy();
  }

  private credentials(): Credentials | undefined {
    return this.o.username ? { username: this.o.username, password: this.o.password ?? '' } : undefined;
  }

  private async ensureConnected(): Promise<void> {
    if (!this.connected) await this.connect();
  }

  private async firstProfile(): Promise<string> {
    const list = await this.profiles();
    const token = list[0]?.token;
    if (!token) throw new CameraFailure('onvif_bad_response', `${this.o.host} has no media profile`);
    return token;
  }

  /**
   * One package call as a promise: settles once, however often (or whether) the package calls back,
   * and turns what it throws or reports into a CameraFailure.
   */
  private req<T>(what: string, fn: (cb: (err: Error | null, data?: T) => void) => void): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let done = false;
      const finish = (err: unknown, data?: T) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        if (err) reject(packageFailure(err, what, this.o.host));
        else resolve(data as T);
      };
      // The package has its own socket timeout; this one also covers a callback that never comes.
      const timer = setTimeout(() => finish(new CameraFailure('onvif_timeout', `${what}: no answer from ${this.o.host} in ${this.timeoutMs} ms`)), this.timeoutMs + 2000);
      try {
        fn((err, data) => finish(err, data));
      } catch (err) {
        finish(err);
      }
    });
  }
}

const NETWORK = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTDOWN']);

/** What the onvif package reported, as a stable reason. */
export function packageFailure(err: unknown, what: string, host: string): CameraFailure {
  if (isCameraFailure(err)) return err;
  const e = err as { code?: unknown; message?: unknown };
  // The package appends a fault's Detail with String(), which an element with attributes turns into "[object Object]".
  const msg = (typeof e?.message === 'string' ? e.message : String(err)).replaceAll('[object Object]', '');
  const text = `${what} ${host}: ${msg}`.slice(0, 500);
  if (typeof e?.code === 'string' && NETWORK.has(e.code)) return new CameraFailure('onvif_unreachable', text, { cause: err });
  if (/socket hang up/i.test(msg)) return new CameraFailure('onvif_unreachable', text, { cause: err });
  if (/Network timeout/i.test(msg)) return new CameraFailure('onvif_timeout', text, { cause: err });
  if (/Digest authentication|not authori[sz]ed|NotAuthorized|FailedAuthentication/i.test(msg)) return new CameraFailure('onvif_auth', text, { cause: err });
  if (/ONVIF SOAP Fault/.test(msg)) return new CameraFailure('onvif_fault', text, { cause: err });
  return new CameraFailure('onvif_bad_response', text, { cause: err });
}

function toProfile(p: CamProfile): MediaProfile {
  const enc = (p.videoEncoderConfiguration ?? {}) as Record<string, unknown>;
  const res = (enc.resolution ?? {}) as Record<string, unknown>;
  const rate = (enc.rateControl ?? {}) as Record<string, unknown>;
  const h264 = (enc.H264 ?? enc.H265 ?? {}) as Record<string, unknown>;
  const n = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
  const out: MediaProfile = { token: String((p.$ as { token?: unknown } | undefined)?.token ?? p.token ?? ''), name: String(p.name ?? '') };
  if (typeof enc.encoding === 'string') out.encoding = enc.encoding;
  if (n(res.width) !== undefined) out.width = n(res.width);
  if (n(res.height) !== undefined) out.height = n(res.height);
  if (n(rate.frameRateLimit) !== undefined) out.fps = n(rate.frameRateLimit);
  if (n(rate.bitrateLimit) !== undefined) out.bitrateKbps = n(rate.bitrateLimit);
  if (n(h264.govLength) !== undefined) out.gop = n(h264.govLength);
  return out;
}
