// Cameras: `onvif` (the ONVIF device service gives the stream URI and the events) and `rtsp` (a stream
// URL alone). Both read points of `camera` profiles and share one RtspProber per edge, so however many
// cameras an edge has, only `concurrency` ffprobe / ffmpeg children run at once.
import type { ErrorDetail } from '../../../contracts/errors.js';
import { RtspProber, type RtspProberOptions } from '../../cameras/rtsp-probe.js';
import type { ConnectionConfig, Driver, DriverDeps, Session } from '../driver.js';
import { RefPool } from '../pool.js';
import { onvifConnectionErrors, onvifLinkKey, resolveOnvif, resolveRtsp, rtspConnectionErrors } from './connection.js';
import { OnvifLink, type EventsTuning } from './link.js';
import { CameraSession } from './session.js';

/** The `cameras` options of defaultDrivers (edge/drivers/index.ts). */
export interface CameraDriverOptions {
  /** Probes running at once over every camera of the edge (default 4: two cores). */
  concurrency?: number;
  /** Probes waiting at most; past it a probe is refused as probe_overloaded (default 1000). */
  maxQueued?: number;
  /**
   * Defaults of every probe (sampleSeconds, analyseSeconds, connectTimeoutMs, timeoutMs, picture
   * thresholds, ffmpegPath / ffprobePath); a camera's connection block overrides the windows.
   */
  probe?: RtspProberOptions['defaults'];
  /** PullPoint tuning of the ONVIF event subscriptions. */
  events?: EventsTuning;
  /** Use this prober instead of making one (shared with other code, or a test's). */
  prober?: RtspProber;
}

/** What the two camera drivers share: the prober (made on first use: validating a config starts nothing). */
export class CameraRuntime {
  private made?: RtspProber;

  constructor(readonly options: CameraDriverOptions = {}) {}

  get prober(): RtspProber {
    if (this.options.prober) return this.options.prober;
    this.made ??= new RtspProber({
      ...(this.options.concurrency !== undefined ? { concurrency: this.options.concurrency } : {}),
      ...(this.options.maxQueued !== undefined ? { maxQueued: this.options.maxQueued } : {}),
      ...(this.options.probe ? { defaults: this.options.probe } : {}),
    });
    return this.made;
  }

  /** Probes queued and running, for status and tests. */
  stats() {
    return this.made?.stats() ?? this.options.prober?.stats();
  }
}

export class OnvifCameraDriver implements Driver {
  readonly protocol = 'onvif';
  readonly profileProtocol = 'camera' as const;
  private readonly links = new RefPool<OnvifLink>((l) => l.close());

  constructor(
    private readonly deps: DriverDeps,
    readonly runtime: CameraRuntime = new CameraRuntime(),
  ) {}

  validateConnection(conn: ConnectionConfig): ErrorDetail[] {
    return onvifConnectionErrors(conn);
  }

  open(conn: ConnectionConfig): Session {
    const c = resolveOnvif(conn);
    const lease = this.links.acquire(onvifLinkKey(c), () => new OnvifLink(c, this.deps, this.runtime.options.events));
    return new CameraSession(c, () => this.runtime.prober, lease);
  }

  /** ONVIF clients open right now (one per device service and identity). */
  get openLinks(): number {
    return this.links.size;
  }
}

export class RtspCameraDriver implements Driver {
  readonly protocol = 'rtsp';
  readonly profileProtocol = 'camera' as const;

  constructor(readonly runtime: CameraRuntime = new CameraRuntime()) {}

  validateConnection(conn: ConnectionConfig): ErrorDetail[] {
    return rtspConnectionErrors(conn);
  }

  open(conn: ConnectionConfig): Session {
    return new CameraSession(resolveRtsp(conn), () => this.runtime.prober);
  }
}
