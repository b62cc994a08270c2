// A camera's ONVIF events through one PullPoint subscription that keeps itself alive:
//   CreatePullPointSubscription → PullMessages (long poll) → … → Renew before the termination time.
// - A pull or renew answered "unknown subscription" (the camera rebooted, or the subscription
//   expired) → subscribe again at once; the new pull point's Initialized messages bring the current
//   state back, so nothing is missed for long.
// - A camera that does not answer (network, reboot in progress) → wait with backoff and pull the same
//   subscription again; it is only given up when its termination time has passed, so a network blip
//   does not leak pull points on the camera (they are a few per camera).
// - Refused credentials → the clock drift is measured again (a camera that came back with a wrong
//   clock refuses WS-Security tokens), then backoff.
// - stop() aborts the long poll, unsubscribes (best effort, bounded) and clears its timer.
//
// Direct SOAP (soap.ts) rather than the onvif package's event loop: the package fixes PullMessages'
// Timeout at one minute with an 80 s socket wait it cannot abort (stop() would hang that long), hides
// the fault subcodes (an unknown subscription looks like any error), retries a refused subscription
// in a tight loop without backoff, and reads time from Date.now() instead of an injected clock.
import type { Clock } from '../../../contracts/clock.js';
import { fullJitter, type BackoffPolicy } from '../../backoff.js';
import { errFields, type Logger } from '../../log.js';
import type { Random, Scheduler, TimerHandle } from '../../scheduler.js';
import { CameraFailure, isCameraFailure, type CameraReason } from '../failure.js';
import type { SoapClient } from './soap.js';
import { notificationsIn, toCameraEvent, type CameraEvent, type TopicRule } from './topics.js';
import { child, esc, path, text, type XmlElement } from './xml.js';

const TEV = 'http://www.onvif.org/ver10/events/wsdl';
const WSNT = 'http://docs.oasis-open.org/wsn/b-2';

export interface PullPointOptions {
  /** The event service XAddr (GetServices / GetCapabilities). */
  eventsUrl: string;
  soap: SoapClient;
  rules: readonly TopicRule[];
  clock: Clock;
  scheduler: Scheduler;
  random?: Random;
  logger: Logger;
  onEvent: (event: CameraEvent) => void;
  /** Called when the subscription state changes (subscribed, or retrying with a reason). */
  onStatus?: (status: PullPointStatus) => void;
  /** Re-measures the camera's clock drift (after refused credentials). */
  refreshDrift?: () => Promise<void>;
  /** PullMessages Timeout, s (how long the camera may hold a pull). Default 10. */
  pullTimeoutS?: number;
  messageLimit?: number;
  /** Termination time asked for on create and renew, s. Default 120. */
  terminationS?: number;
  /** Renew when less than this is left, s. Default: half of terminationS. */
  renewMarginS?: number;
  backoff?: BackoffPolicy;
}

export interface PullPointStatus {
  state: 'starting' | 'subscribed' | 'retrying' | 'stopped';
  /** Why the last attempt failed. */
  reason?: CameraReason;
  message?: string;
  /** Subscriptions created, the first one included. */
  subscriptions: number;
  /** Times the camera no longer knew the subscription (rebooted, expired it). */
  lost: number;
  pulls: number;
  events: number;
  /** Notifications whose topic no rule maps (counted, not delivered). */
  unmapped: number;
  renewals: number;
}

interface Sub {
  address: string;
  /** Edge-clock time the camera will drop it (its TerminationTime − CurrentTime, from our now). */
  expiresAt: number;
}

export class PullPointSubscriber {
  private running = false;
  private loop?: Promise<void>;
  private sub?: Sub;
  private abort?: AbortController;
  private timer?: TimerHandle;
  private wake?: () => void;
  private failures = 0;
  /** PullMessages Timeout and MessageLimit in use; lowered to what the camera says it takes. */
  private pullTimeoutS: number;
  private messageLimit: number;
  private readonly st: PullPointStatus = { state: 'starting', subscriptions: 0, lost: 0, pulls: 0, events: 0, unmapped: 0, renewals: 0 };

  constructor(private readonly o: PullPointOptions) {
    this.pullTimeoutS = o.pullTimeoutS ?? 10;
    this.messageLimit = o.messageLimit ?? 50;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  status(): PullPointStatus {
    return { ...this.st };
  }

  /** Stops pulling, aborts a pull in flight and unsubscribes (bounded: 2 s). */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.abort?.abort();
    if (this.timer !== undefined) this.o.scheduler.clearTimeout(this.timer);
    this.wake?.();
    await this.loop;
    const sub = this.sub;
    this.sub = undefined;
    if (sub) {
      await this.o.soap
        .call(sub.address, `<wsnt:Unsubscribe xmlns:wsnt="${WSNT}"/>`, { header: to(sub.address), timeoutMs: 2000 })
        .catch((err: unknown) => this.o.logger.debug({ ...errFields(err) }, 'unsubscribe on stop failed'));
    }
    this.setState('stopped');
  }

  private async run(): Promise<void> {
    while (this.running) {
      try {
        if (!this.sub || this.o.clock.now() >= this.sub.expiresAt) await this.subscribe();
        await this.pullOnce();
        this.failures = 0;
        if (this.sub && this.sub.expiresAt - this.o.clock.now() < this.renewMarginMs()) await this.renew();
      } catch (err) {
        if (!this.running) break;
        await this.onFailure(err);
      }
    }
  }

  private async subscribe(): Promise<void> {
    const term = this.o.terminationS ?? 120;
    const res = await this.call(this.o.eventsUrl, `<tev:CreatePullPointSubscription xmlns:tev="${TEV}"><tev:InitialTerminationTime>PT${term}S</tev:InitialTerminationTime></tev:CreatePullPointSubscription>`);
    const address = text(path(res, 'SubscriptionReference', 'Address'));
    if (!address) throw new CameraFailure('onvif_bad_response', 'CreatePullPointSubscriptionResponse without a SubscriptionReference Address');
    this.sub = { address, expiresAt: this.expiry(res) ?? this.o.clock.now() + term * 1000 };
    this.st.subscriptions++;
    this.o.logger.info({ address, subscriptions: this.st.subscriptions }, 'camera events subscribed');
    this.setState('subscribed');
  }

  private async pullOnce(): Promise<void> {
    const sub = this.sub!;
    const timeoutS = this.pullTimeoutS;
    const body = `<tev:PullMessages xmlns:tev="${TEV}"><tev:Timeout>PT${timeoutS}S</tev:Timeout><tev:MessageLimit>${this.messageLimit}</tev:MessageLimit></tev:PullMessages>`;
    const res = await this.call(sub.address, body, timeoutS * 1000 + 10_000, to(sub.address));
    this.st.pulls++;
    if (this.st.state !== 'subscribed') this.setState('subscribed');
    const expiry = this.expiry(res);
    if (expiry !== undefined) sub.expiresAt = expiry;
    for (const n of notificationsIn(res)) {
      const ev = toCameraEvent(n, this.o.rules);
      if (!ev) {
        this.st.unmapped++;
        this.o.logger.debug({ topic: n.topic }, 'camera event topic not in the map');
        continue;
      }
      this.st.events++;
      try {
        this.o.onEvent(ev);
      } catch (err) {
        this.o.logger.error({ ...errFields(err) }, 'camera event handler failed');
      }
    }
  }

  private async renew(): Promise<void> {
    const sub = this.sub!;
    const term = this.o.terminationS ?? 120;
    const res = await this.call(sub.address, `<wsnt:Renew xmlns:wsnt="${WSNT}"><wsnt:TerminationTime>PT${term}S</wsnt:TerminationTime></wsnt:Renew>`, undefined, to(sub.address));
    sub.expiresAt = this.expiry(res) ?? this.o.clock.now() + term * 1000;
    this.st.renewals++;
  }

  private async onFailure(err: unknown): Promise<void> {
    const f = isCameraFailure(err) ? err : new CameraFailure('onvif_bad_response', String(err), { cause: err });
    if (f.reason === 'onvif_aborted') return;
    this.st.reason = f.reason;
    this.st.message = f.message;
    if (f.reason === 'onvif_unknown_subscription') {
      // The camera forgot it (reboot, expiry): a new one now, no waiting.
      this.o.logger.warn({ reason: f.reason, message: f.message }, 'camera event subscription lost; subscribing again');
      this.st.lost++;
      this.sub = undefined;
      this.setState('retrying');
      return;
    }
    if (f.reason === 'onvif_fault' && this.adoptPullLimits(f.faultDetail)) return; // pull again at once, within the camera's limits
    if (f.reason === 'onvif_fault' || f.reason === 'onvif_bad_response') this.sub = undefined; // whatever it was, start over
    if (f.reason === 'onvif_auth' && this.o.refreshDrift) await this.o.refreshDrift().catch(() => undefined);
    this.setState('retrying');
    const delay = Math.max(50, fullJitter(this.failures++, this.o.backoff ?? { baseMs: 1000, capMs: 60_000 }, this.o.random ?? Math.random));
    this.o.logger.warn({ reason: f.reason, message: f.message, retryInMs: delay }, 'camera events: retrying');
    await new Promise<void>((resolve) => {
      this.wake = resolve;
      this.timer = this.o.scheduler.setTimeout(() => {
        this.timer = undefined;
        resolve();
      }, delay);
    });
    this.wake = undefined;
  }

  /** A PullMessagesFaultResponse names the largest Timeout / MessageLimit the camera takes: use them. */
  private adoptPullLimits(detail: Readonly<Record<string, string>>): boolean {
    const maxTimeoutS = xsDurationS(detail.MaxTimeout);
    const maxLimit = Number(detail.MaxMessageLimit);
    let changed = false;
    if (maxTimeoutS !== undefined && maxTimeoutS >= 1 && maxTimeoutS < this.pullTimeoutS) {
      this.pullTimeoutS = Math.floor(maxTimeoutS);
      changed = true;
    }
    if (Number.isInteger(maxLimit) && maxLimit >= 1 && maxLimit < this.messageLimit) {
      this.messageLimit = maxLimit;
      changed = true;
    }
    if (changed) this.o.logger.info({ pullTimeoutS: this.pullTimeoutS, messageLimit: this.messageLimit }, 'camera events: pulling within the camera\'s limits');
    return changed;
  }

  private call(url: string, body: string, timeoutMs?: number, header?: string): Promise<XmlElement> {
    this.abort = new AbortController();
    return this.o.soap.call(url, body, { signal: this.abort.signal, ...(timeoutMs ? { timeoutMs } : {}), ...(header ? { header } : {}) });
  }

  /** Our clock's time the subscription ends: the camera's TerminationTime − CurrentTime from now. */
  private expiry(res: XmlElement): number | undefined {
    const current = Date.parse(text(child(res, 'CurrentTime')) ?? '');
    const termination = Date.parse(text(child(res, 'TerminationTime')) ?? '');
    if (Number.isFinite(current) && Number.isFinite(termination)) return this.o.clock.now() + (termination - current);
    return undefined;
  }

  private renewMarginMs(): number {
    return (this.o.renewMarginS ?? (this.o.terminationS ?? 120) / 2) * 1000;
  }

  private setState(state: PullPointStatus['state']): void {
    const changed = this.st.state !== state;
    this.st.state = state;
    if (state === 'subscribed') {
      delete this.st.reason;
      delete this.st.message;
    }
    if (changed) this.o.onStatus?.(this.status());
  }
}

/** xs:duration (PT10S, PT1M, P0DT0H0M30S) in seconds. */
function xsDurationS(v: string | undefined): number | undefined {
  const m = v === undefined ? null : /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(v.trim());
  if (!m) return undefined;
  return ((Number(m[1] ?? 0) * 24 + Number(m[2] ?? 0)) * 60 + Number(m[3] ?? 0)) * 60 + Number(m[4] ?? 0);
}

/** WS-Addressing To: the pull point's address (cameras that serve every pull point at one URL route by it). */
function to(address: string): string {
  return `<a:To s:mustUnderstand="true">${esc(address)}</a:To>`;
}
