// One ONVIF device service shared by the devices that name it (an NVR's channels, or a camera listed
// once): one OnvifCamera (its sockets, its clock drift), the stream URIs it gave, and one PullPoint
// event subscription fanned out to every session that listens. The subscription starts with the first
// listener and stops with the last; a camera that cannot be reached when it starts is tried again
// with backoff until it can (the PullPoint subscriber heals itself after that).
import { fullJitter, type BackoffPolicy } from '../../backoff.js';
import { CameraFailure, isCameraFailure } from '../../cameras/failure.js';
import { OnvifCamera } from '../../cameras/onvif/camera.js';
import type { PullPointStatus, PullPointSubscriber } from '../../cameras/onvif/pullpoint.js';
import type { CameraEvent } from '../../cameras/onvif/topics.js';
import { errFields, type Logger } from '../../log.js';
import type { TimerHandle } from '../../scheduler.js';
import type { DriverDeps } from '../driver.js';
import type { ResolvedOnvif } from './connection.js';

export interface EventsTuning {
  /** PullMessages Timeout, s (default 10). */
  pullTimeoutS?: number;
  /** Between failed attempts to subscribe or pull (default 1 s doubling to 60 s, full jitter). */
  backoff?: BackoffPolicy;
}

export interface LinkListener {
  onEvent(event: CameraEvent): void;
  /** The subscription's state changed (subscribed, retrying with a reason). */
  onStatus(status: Pick<PullPointStatus, 'state' | 'reason' | 'message'>): void;
}

export class OnvifLink {
  readonly camera: OnvifCamera;
  private readonly uris = new Map<string, Promise<string>>();
  private readonly listeners = new Set<LinkListener>();
  private sub?: PullPointSubscriber;
  private starting?: Promise<void>;
  private retry?: TimerHandle;
  private attempts = 0;
  /** The last status told to the listeners ("state reason"), so a repeated failure is told once. */
  private told = '';
  private stopping: Promise<void> = Promise.resolve();
  private closed = false;
  private readonly log: Logger;

  constructor(
    readonly c: ResolvedOnvif,
    private readonly deps: DriverDeps,
    private readonly tuning: EventsTuning = {},
  ) {
    this.log = deps.logger.child({ camera: `${c.host}:${c.port}` });
    this.camera = new OnvifCamera({
      host: c.host,
      port: c.port,
      path: c.path,
      ...(c.username !== undefined ? { username: c.username, password: c.password ?? '' } : {}),
      timeoutMs: c.timeoutMs,
      vendor: c.vendor,
      clock: deps.clock,
      scheduler: deps.scheduler,
      logger: this.log,
    });
  }

  /**
   * The RTSP URI of a media profile (the first one when none is named), asked once and kept; `fresh`
   * asks again (after the stream refused: the camera may have rebooted with other URIs).
   */
  streamUri(profileToken: string | undefined, fresh = false): Promise<string> {
    const key = profileToken ?? '';
    const known = this.uris.get(key);
    if (known && !fresh) return known;
    const asked = this.camera.streamUri(profileToken);
    this.uris.set(key, asked);
    // A failed answer is not kept: the next read asks again.
    asked.catch(() => {
      if (this.uris.get(key) === asked) this.uris.delete(key);
    });
    return asked;
  }

  /** Adds a listener of the camera's events; returns its removal. */
  listen(listener: LinkListener): () => void {
    this.listeners.add(listener);
    if (this.listeners.size === 1) this.startEvents();
    let active = true;
    return () => {
      if (!active) return;
      active = false;
      this.listeners.delete(listener);
      if (this.listeners.size === 0) this.stopEvents();
    };
  }

  /** Stops the subscription and closes the camera's sockets. */
  async close(): Promise<void> {
    this.closed = true;
    this.listeners.clear();
    this.stopEvents();
    await this.starting?.catch(() => undefined);
    await this.stopping;
    await this.camera.close();
  }

  private startEvents(): void {
    if (this.closed || this.starting || this.sub) return;
    this.starting = this.openSubscription().finally(() => {
      this.starting = undefined;
    });
  }

  private async openSubscription(): Promise<void> {
    try {
      const sub = await this.camera.events({
        onEvent: (e) => this.each((l) => l.onEvent(e)),
        onStatus: (s) => this.tell(s),
        backoff: this.tuning.backoff ?? { baseMs: 1000, capMs: 60_000 },
        random: this.deps.random,
        ...(this.tuning.pullTimeoutS !== undefined ? { pullTimeoutS: this.tuning.pullTimeoutS } : {}),
      });
      if (this.listeners.size === 0 || this.closed) {
        await sub.stop();
        return;
      }
      this.sub = sub;
      this.attempts = 0;
      sub.start();
    } catch (err) {
      // The camera did not connect (unreachable, refused, no event service): tell the listeners, try later.
      const f = isCameraFailure(err) ? err : new CameraFailure('onvif_bad_response', String(err), { cause: err });
      this.log.warn({ ...errFields(f), reason: f.reason }, 'camera events: cannot subscribe yet');
      this.tell({ state: 'retrying', reason: f.reason, message: f.message });
      if (this.listeners.size === 0 || this.closed) return;
      const delay = Math.max(50, fullJitter(this.attempts++, this.tuning.backoff ?? { baseMs: 1000, capMs: 60_000 }, this.deps.random));
      this.retry = this.deps.scheduler.setTimeout(() => {
        this.retry = undefined;
        this.startEvents();
      }, delay);
    }
  }

  private stopEvents(): void {
    if (this.retry !== undefined) this.deps.scheduler.clearTimeout(this.retry);
    this.retry = undefined;
    this.told = '';
    const sub = this.sub;
    this.sub = undefined;
    if (sub) {
      const previous = this.stopping;
      this.stopping = previous.then(() => sub.stop()).catch((err: unknown) => this.log.debug({ ...errFields(err) }, 'camera events: stop failed'));
    }
  }

  /** A status change to every listener; the same status again is not news. */
  private tell(s: Pick<PullPointStatus, 'state' | 'reason' | 'message'>): void {
    const key = `${s.state} ${s.reason ?? ''}`;
    if (key === this.told) return;
    this.told = key;
    this.each((l) => l.onStatus(s));
  }

  private each(fn: (l: LinkListener) => void): void {
    for (const l of [...this.listeners]) {
      try {
        fn(l);
      } catch (err) {
        this.log.error({ ...errFields(err) }, 'camera event listener failed');
      }
    }
  }
}
