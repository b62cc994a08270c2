// A reference device for the OTA protocol in firmware-specs/ota/README.md, over a real MQTT connection
// (MQTT.js). It does what device firmware must do — check the offer's signature against its baked-in
// keys, pull chunks by offset, resume from what it holds after a dropped link, check the SHA-256 and the
// signature before installing, report every step — and can be told to misbehave the ways real devices do:
// a corrupted chunk, a link that drops mid-download, an install that fails.
import { connectAsync, type MqttClient } from 'mqtt';
import Value from 'typebox/value';
import { sha256Hex, verifyManifest, type FirmwareManifest } from '../../contracts/firmware.js';
import { decodeChunk, OTA_TOPICS, OtaOffer, type OtaDeviceState, type OtaRequest, type OtaStatus } from '../../contracts/firmware-ota.js';

export interface ReferenceDeviceOptions {
  /** The edge broker, e.g. mqtt://127.0.0.1:1884. */
  url: string;
  deviceId: string;
  username: string;
  password: string;
  /** Its topic root (default devices/<deviceId>/). */
  root?: string;
  /** The device profile of its model; an offer not naming it is refused. */
  profile: string;
  /** The firmware version it runs. */
  version: string;
  /** Ed25519 public keys (PEM) baked into the firmware: only images they signed are installed. */
  trustedKeysPem: string[];
  /** Room for an image, bytes (default 16 MiB). */
  maxImageSize?: number;
  /** Bytes per request (default and most: the offer's chunk_size). */
  requestLength?: number;
  /** Fault: flip one bit of the byte at this image offset when it arrives (the SHA-256 check then fails). */
  corruptByteAt?: number;
  /** Fault: drop the TCP connection (no DISCONNECT) once, when it holds at least this many bytes. */
  dropAfterBytes?: number;
  /** Fault: the install step fails (flash write error). */
  failInstall?: boolean;
  /** Wait before reconnecting after a drop, ms (default 300). */
  reconnectMs?: number;
  /** A slow radio: wait this long before each request, ms (default 0). */
  requestDelayMs?: number;
}

interface Download {
  offer: OtaOffer;
  image: Buffer;
  held: number;
  lastReported: number;
  retries: number;
}

export class ReferenceDevice {
  /** The version it runs (changes after a successful install). */
  version: string;
  /** Every status it published, in order. */
  readonly sent: OtaStatus[] = [];
  /** Every request it published. */
  readonly requests: OtaRequest[] = [];
  /** Offers it has seen (an empty retained offer counts as a withdrawal, not here). */
  readonly offers: OtaOffer[] = [];
  connects = 0;
  drops = 0;
  private client?: MqttClient;
  private dl?: Download;
  /** Jobs it finished (either way): a retained offer seen again is not started again. */
  private readonly finished = new Set<string>();
  private requestTimer?: NodeJS.Timeout;
  private dropped = false;
  private stopped = false;
  private readonly root: string;

  constructor(private readonly o: ReferenceDeviceOptions) {
    this.version = o.version;
    this.root = o.root ?? `devices/${o.deviceId}/`;
  }

  /** Bytes of the current download it holds. */
  get held(): number {
    return this.dl?.held ?? 0;
  }

  /** The last state it reported for a job. */
  lastState(jobId: string): OtaStatus | undefined {
    return this.sent.filter((s) => s.job_id === jobId).at(-1);
  }

  async start(): Promise<void> {
    const client = await connectAsync(this.o.url, {
      username: this.o.username,
      password: this.o.password,
      clientId: `${this.o.deviceId}-ref`,
      reconnectPeriod: this.o.reconnectMs ?? 300,
      connectTimeout: 5000,
      clean: true,
    });
    this.client = client;
    client.on('message', (topic, payload) => this.onMessage(topic, payload));
    client.on('connect', () => void this.onConnect());
    await this.onConnect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.clearRequestTimer();
    await this.client?.endAsync(true);
  }

  private topic(rel: string): string {
    return `${this.root}${rel}`;
  }

  private async onConnect(): Promise<void> {
    this.connects++;
    // Clean session: subscribe again after every (re)connect; the retained offer then comes back.
    await this.client!.subscribeAsync([this.topic(OTA_TOPICS.offer), this.topic(OTA_TOPICS.chunk), this.topic(OTA_TOPICS.error)], { qos: 1 });
  }

  private onMessage(topic: string, payload: Buffer): void {
    if (this.stopped) return;
    if (topic === this.topic(OTA_TOPICS.offer)) this.onOffer(payload);
    else if (topic === this.topic(OTA_TOPICS.chunk)) this.onChunk(payload);
    else if (topic === this.topic(OTA_TOPICS.error)) this.onError(payload);
  }

  private onOffer(payload: Buffer): void {
    if (payload.length === 0) {
      // Withdrawn (the job is over or its campaign aborted): drop the partial image.
      this.clearRequestTimer();
      this.dl = undefined;
      return;
    }
    let offer: OtaOffer;
    try {
      offer = JSON.parse(payload.toString('utf8')) as OtaOffer;
    } catch {
      return;
    }
    if (!Value.Check(OtaOffer, offer)) return;
    this.offers.push(offer);
    if (this.finished.has(offer.job_id)) return;
    const dl = this.dl;
    if (dl && dl.offer.job_id === offer.job_id && dl.offer.sha256 === offer.sha256) {
      // Back after a drop: carry on from the bytes already held.
      this.status(offer.job_id, 'downloading', { bytes: dl.held });
      this.request();
      return;
    }
    if (offer.version === this.version) return this.finish(offer.job_id, 'succeeded', { running_version: this.version });
    if (!offer.profiles.includes(this.o.profile)) {
      return this.fail(offer.job_id, 'GS_ERR_FIRMWARE_UNSUPPORTED', `image is for ${offer.profiles.join(', ')}; this device is a ${this.o.profile}`);
    }
    if (offer.size > (this.o.maxImageSize ?? 16 * 1024 * 1024)) return this.fail(offer.job_id, 'GS_ERR_FIRMWARE_UNSUPPORTED', `image of ${offer.size} bytes does not fit`);
    // Checked before a byte is fetched: an image no baked-in key signed is never downloaded.
    if (!this.signed(offer)) return this.fail(offer.job_id, 'GS_ERR_FIRMWARE_SIGNATURE', `signature by key ${offer.key_id} does not verify against this device's keys`);
    this.dl = { offer, image: Buffer.alloc(offer.size), held: 0, lastReported: 0, retries: 0 };
    this.status(offer.job_id, 'downloading', { bytes: 0 });
    this.request();
  }

  private signed(offer: OtaOffer): boolean {
    const m: FirmwareManifest = { version: offer.version, sha256: offer.sha256, size: offer.size, profiles: offer.profiles };
    return verifyManifest(m, offer.signature, this.o.trustedKeysPem);
  }

  private request(): void {
    const dl = this.dl;
    if (!dl || this.stopped) return;
    const { offer } = dl;
    const req: OtaRequest = { job_id: offer.job_id, offset: dl.held, length: Math.min(this.o.requestLength ?? offer.chunk_size, offer.chunk_size, offer.size - dl.held) };
    this.requests.push(req);
    this.clearRequestTimer();
    // Unanswered (a lost chunk, the edge restarting): ask again, backing off after five tries.
    const wait = offer.request_timeout_s * 1000 * 2 ** Math.max(0, Math.min(dl.retries - 5, 5));
    this.requestTimer = setTimeout(() => {
      dl.retries++;
      this.request();
    }, wait);
    this.client?.publish(this.topic(OTA_TOPICS.request), JSON.stringify(req), { qos: 1 });
  }

  private onChunk(payload: Buffer): void {
    const dl = this.dl;
    const chunk = decodeChunk(payload);
    // Stale or duplicate chunks (an answer to a request sent again) are not an error: skip them.
    if (!dl || !chunk || chunk.jobId !== dl.offer.job_id || chunk.offset !== dl.held || chunk.data.length === 0) return;
    this.clearRequestTimer();
    dl.retries = 0;
    chunk.data.copy(dl.image, dl.held);
    const at = this.o.corruptByteAt;
    if (at !== undefined && at >= dl.held && at < dl.held + chunk.data.length) dl.image[at]! ^= 0x01;
    dl.held += chunk.data.length;
    const { size, job_id } = dl.offer;
    if (dl.held - dl.lastReported >= size / 4 && dl.held < size) {
      dl.lastReported = dl.held;
      this.status(job_id, 'downloading', { bytes: dl.held });
    }
    if (this.o.dropAfterBytes !== undefined && !this.dropped && dl.held >= this.o.dropAfterBytes && dl.held < size) {
      this.dropped = true;
      this.drops++;
      // An abrupt loss (radio gone), not a goodbye: MQTT.js reconnects after reconnectMs.
      this.client?.stream.destroy();
      return;
    }
    if (dl.held < size) {
      if (this.o.requestDelayMs) this.requestTimer = setTimeout(() => this.request(), this.o.requestDelayMs);
      else this.request();
      return;
    }
    void this.install(dl);
  }

  private async install(dl: Download): Promise<void> {
    const { offer } = dl;
    this.status(offer.job_id, 'downloading', { bytes: dl.held });
    this.status(offer.job_id, 'verifying');
    const actual = sha256Hex(dl.image);
    this.dl = undefined;
    if (actual !== offer.sha256) return this.fail(offer.job_id, 'GS_ERR_FIRMWARE_CHECKSUM', `image SHA-256 is ${actual}, the offer says ${offer.sha256}`);
    if (!this.signed(offer)) return this.fail(offer.job_id, 'GS_ERR_FIRMWARE_SIGNATURE', 'signature does not verify');
    this.status(offer.job_id, 'installing');
    if (this.o.failInstall) return this.fail(offer.job_id, 'GS_ERR_FIRMWARE_INSTALL', 'flash write failed at sector 3');
    this.version = offer.version;
    this.finish(offer.job_id, 'succeeded', { running_version: this.version });
  }

  private onError(payload: Buffer): void {
    let e: { job_id?: string; code?: string } = {};
    try {
      e = JSON.parse(payload.toString('utf8')) as typeof e;
    } catch {
      return;
    }
    // The edge does not know the job (any more): give it up quietly; a new offer starts afresh.
    if (this.dl && e.job_id === this.dl.offer.job_id) {
      this.clearRequestTimer();
      this.dl = undefined;
    }
  }

  private fail(jobId: string, code: string, message: string): void {
    this.finish(jobId, 'failed', { reason: { code, message }, running_version: this.version });
  }

  private finish(jobId: string, state: 'succeeded' | 'failed', extra: Partial<OtaStatus>): void {
    this.finished.add(jobId);
    this.clearRequestTimer();
    this.status(jobId, state, extra);
  }

  private status(jobId: string, state: OtaDeviceState, extra: Partial<OtaStatus> = {}): void {
    const st: OtaStatus = { job_id: jobId, state, ...extra, ts: new Date().toISOString() };
    this.sent.push(st);
    this.client?.publish(this.topic(OTA_TOPICS.status), JSON.stringify(st), { qos: 1 });
  }

  private clearRequestTimer(): void {
    if (this.requestTimer) clearTimeout(this.requestTimer);
    this.requestTimer = undefined;
  }
}
