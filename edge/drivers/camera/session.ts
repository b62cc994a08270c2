// One camera as a driver session. Polled points are the RTSP health probe's (online, codec, width,
// height, fps, bitrate_kbps, keyframe_interval_s, black, frozen): each read runs one probe through the
// edge's shared RtspProber and maps it with probeReadings (edge/cameras/readings.ts). Pushed points
// are the ONVIF events (motion, tamper, video_loss) from the camera's PullPoint subscription, shared
// with the other devices on the same device service (link.ts).
//
// Health: a probe that reaches nothing is a missed poll (every probe point unreachable), which the
// poller and edge/health/ turn into the camera's offline alarm; a stream that answers but refuses or
// has no video reads `online` false. An event subscription in trouble never marks the camera offline
// (the probe decides that): refusals are pushed as bad event values with their reason; a camera that
// does not answer its event service pushes nothing.
import { GsError } from '../../../contracts/errors.js';
import type { ProfilePoint as Point } from '../../../contracts/profile.js';
import { CAMERA_REASONS, isCameraFailure, redactUrl, type CameraReason } from '../../cameras/failure.js';
import { isClockPoint, isEventPoint, isProbePoint, probeReadings, type EventPoint } from '../../cameras/readings.js';
import type { RtspProbeOptions, RtspProbeResult, RtspProber } from '../../cameras/rtsp-probe.js';
import type { RawPointValue, Session } from '../driver.js';
import type { Lease } from '../pool.js';
import type { ResolvedCamera } from './connection.js';
import type { OnvifLink } from './link.js';

export class CameraSession implements Session {
  readonly busId: string;
  /** The pool key of this camera's probes. */
  private readonly key: string;
  private readonly abort = new AbortController();
  private readonly offs = new Set<() => void>();
  /** The latest state of each ONVIF event kind, for a read of an event point. */
  private readonly events = new Map<EventPoint, boolean>();
  /** Ask the camera for its stream URI again before the next probe (the last one was refused). */
  private freshUri = false;
  private closed = false;

  constructor(
    private readonly c: ResolvedCamera,
    private readonly prober: () => RtspProber,
    private readonly link?: Lease<OnvifLink>,
  ) {
    this.busId = c.busId;
    this.key = c.deviceId ?? (c.kind === 'onvif' ? `${c.busId}/${c.profileToken ?? ''}` : redactUrl(c.url));
  }

  /** Events are pushed by an ONVIF camera; an RTSP-only camera has none. */
  subscribes(point: Point): boolean {
    return this.link !== undefined && isEventPoint(point.name);
  }

  subscribe(points: readonly Point[], onValue: (value: RawPointValue) => void): () => void {
    this.assertOpen();
    const link = this.link?.value;
    const wanted = new Set(points.map((p) => p.name).filter(isEventPoint));
    if (!link || wanted.size === 0) return () => undefined;
    const off = link.listen({
      onEvent: (e) => {
        this.events.set(e.kind, e.active);
        if (wanted.has(e.kind)) onValue({ point: e.kind, ok: true, value: e.active });
      },
      onStatus: (s) => {
        if (s.state !== 'retrying' || !s.reason) return;
        // The event state is not known while the subscription is down; the next one reports it anew.
        this.events.clear();
        if (CAMERA_REASONS[s.reason].unreachable || s.reason === 'onvif_aborted') return;
        for (const point of wanted) onValue({ point, ok: false, reason: s.reason, unreachable: false });
      },
    });
    let active = true;
    const unsubscribe = () => {
      if (!active) return;
      active = false;
      this.offs.delete(unsubscribe);
      off();
    };
    this.offs.add(unsubscribe);
    return unsubscribe;
  }

  async read(points: readonly Point[]): Promise<RawPointValue[]> {
    this.assertOpen();
    const probed = points.map((p) => p.name).filter(isProbePoint);
    const out = new Map<string, RawPointValue>();
    let unreachable: { reason: string } | undefined;
    if (probed.length > 0) {
      const picture = probed.includes('black') || probed.includes('frozen');
      const result = await this.probe(picture);
      for (const v of probeReadings(probed, result)) out.set(v.point, v);
      if (!result.ok && result.unreachable) unreachable = { reason: result.reason };
    }
    const clock = points.find((p) => isClockPoint(p.name));
    // A camera that did not answer the probe is not asked again: its clock point is the same miss.
    if (clock) out.set(clock.name, unreachable ? { point: clock.name, ok: false, reason: unreachable.reason, unreachable: true } : await this.clockDrift(clock.name));
    return points.map((p) => out.get(p.name) ?? this.nonProbe(p.name, unreachable));
  }

  async write(point: Point): Promise<void> {
    throw new GsError('GS_ERR_DRIVER_VALUE', `camera point ${point.name} is read-only`);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.abort.abort();
    for (const off of [...this.offs]) off();
    await this.link?.release();
  }

  /** The camera's clock against the edge's, measured again each poll (GetSystemDateAndTime needs no login). */
  private async clockDrift(point: string): Promise<RawPointValue> {
    if (!this.link) return { point, ok: false, reason: 'no_clock_source', unreachable: false };
    try {
      const d = await this.link.value.camera.clockDrift();
      return { point, ok: true, value: Math.round(Math.abs(d.driftMs) / 100) / 10 };
    } catch (err) {
      const reason: CameraReason = isCameraFailure(err) ? err.reason : 'onvif_bad_response';
      return { point, ok: false, reason, unreachable: CAMERA_REASONS[reason].unreachable };
    }
  }

  /** A point the probe does not measure: an event's last state, or why there is none. */
  private nonProbe(name: string, unreachable: { reason: string } | undefined): RawPointValue {
    if (!isEventPoint(name)) return { point: name, ok: false, reason: 'not_a_camera_point', unreachable: false };
    if (unreachable) return { point: name, ok: false, reason: unreachable.reason, unreachable: true };
    if (!this.link) return { point: name, ok: false, reason: 'no_event_source', unreachable: false };
    const v = this.events.get(name);
    return v === undefined ? { point: name, ok: false, reason: 'no_event_state', unreachable: false } : { point: name, ok: true, value: v };
  }

  /** The stream's URL (asked from the camera for ONVIF), then one probe of it through the shared pool. */
  private async probe(picture: boolean): Promise<RtspProbeResult> {
    const c = this.c;
    const started = Date.now();
    let url: string;
    try {
      url = c.kind === 'rtsp' ? c.url : (c.rtspUrl ?? (await this.link!.value.streamUri(c.profileToken, this.freshUri)));
    } catch (err) {
      const reason: CameraReason = isCameraFailure(err) ? err.reason : 'onvif_bad_response';
      const message = redactUrl(err instanceof Error ? err.message : String(err));
      return { ok: false, url: '', reason, unreachable: CAMERA_REASONS[reason].unreachable, message, tookMs: Date.now() - started };
    }
    const opts: RtspProbeOptions = { transport: c.transport, signal: this.abort.signal };
    // The connection's account, unless the URL carries the stream's own.
    if (c.username !== undefined && !hasUserInfo(url)) Object.assign(opts, { username: c.username, password: c.password ?? '' });
    if (c.sampleSeconds !== undefined) opts.sampleSeconds = c.sampleSeconds;
    if (!picture) opts.analyseSeconds = 0;
    else if (c.analyseSeconds !== undefined) opts.analyseSeconds = c.analyseSeconds;
    const result = await this.prober().probe(this.key, url, opts);
    // A stream that answered and refused (404 after a reboot, a new URI scheme): ask for the URI again.
    if (c.kind === 'onvif' && c.rtspUrl === undefined) this.freshUri = !result.ok && !result.unreachable;
    return result;
  }

  private assertOpen(): void {
    if (this.closed) throw new GsError('GS_ERR_DRIVER_CLOSED');
  }
}

function hasUserInfo(url: string): boolean {
  try {
    return new URL(url).username !== '';
  } catch {
    return false;
  }
}
