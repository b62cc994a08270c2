// One device's update on the edge's broker (firmware-specs/ota/README.md): the image is offered
// (retained, so a device that subscribes late or comes back after a drop sees it), the device asks for
// chunks by offset and the edge answers each from the verified image on disk. The device drives, so a
// device that dropped off simply asks again from where it was. Its status messages go to `onStatus`;
// silence longer than the device timeout goes to `onSilent`.
import type { FileHandle } from 'node:fs/promises';
import { open } from 'node:fs/promises';
import type { FirmwareJob } from '../../contracts/firmware.js';
import { encodeChunk, OTA_TOPICS, OtaRequest, OtaStatus, type OtaError, type OtaOffer } from '../../contracts/firmware-ota.js';
import { schemaErrors } from '../../contracts/validate.js';
import type { DeviceAccount } from '../broker/accounts.js';
import type { DeviceEvents } from '../broker/broker.js';
import type { Logger } from '../log.js';
import type { Scheduler } from '../scheduler.js';

/** What the relay needs of a broker; the edge's EdgeBroker is one. */
export interface OtaBroker {
  attach(account: DeviceAccount, events: DeviceEvents): () => void;
  publish(topic: string, payload: Buffer, opts?: { qos?: 0 | 1 | 2; retain?: boolean }): Promise<void>;
}

export interface OtaSessionOptions {
  broker: OtaBroker;
  account: DeviceAccount;
  job: FirmwareJob;
  imagePath: string;
  chunkSize: number;
  requestTimeoutS: number;
  deviceTimeoutMs: number;
  scheduler: Scheduler;
  logger: Logger;
  onStatus: (status: OtaStatus) => void;
  onSilent: () => void;
}

const MAX_IN_FLIGHT = 8;

export class OtaSession {
  private detach?: () => void;
  private file?: FileHandle;
  private timer?: unknown;
  private stopped = false;
  /** Chunk publishes in flight, so stop() does not close the file under a read. */
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly o: OtaSessionOptions) {}

  private topic(rel: string): string {
    return `${this.o.account.root}${rel}`;
  }

  offer(): OtaOffer {
    const a = this.o.job.artifact;
    return {
      v: 1,
      job_id: this.o.job.jobId,
      version: a.manifest.version,
      size: a.manifest.size,
      sha256: a.manifest.sha256,
      profiles: a.manifest.profiles,
      signature: a.signature,
      key_id: a.keyId,
      chunk_size: this.o.chunkSize,
      request_timeout_s: this.o.requestTimeoutS,
    };
  }

  async start(): Promise<void> {
    this.file = await open(this.o.imagePath, 'r');
    this.detach = this.o.broker.attach(this.o.account, {
      message: (topic, payload) => this.onMessage(topic, payload),
      connected: () => undefined,
      offline: () => undefined,
    });
    this.armSilence();
    await this.o.broker.publish(this.topic(OTA_TOPICS.offer), Buffer.from(JSON.stringify(this.offer())), { qos: 1, retain: true });
    this.o.logger.info({ jobId: this.o.job.jobId, deviceId: this.o.account.deviceId, version: this.o.job.artifact.manifest.version }, 'firmware offered to the device');
  }

  /** Stops serving; `withdraw` clears the retained offer (the job is over for this device). */
  async stop(withdraw: boolean): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer !== undefined) this.o.scheduler.clearTimeout(this.timer);
    this.timer = undefined;
    if (withdraw) await this.o.broker.publish(this.topic(OTA_TOPICS.offer), Buffer.alloc(0), { qos: 1, retain: true }).catch(() => undefined);
    this.detach?.();
    await Promise.allSettled([...this.inFlight]);
    await this.file?.close().catch(() => undefined);
  }

  private armSilence(): void {
    if (this.stopped) return;
    if (this.timer !== undefined) this.o.scheduler.clearTimeout(this.timer);
    this.timer = this.o.scheduler.setTimeout(() => {
      this.timer = undefined;
      if (!this.stopped) this.o.onSilent();
    }, this.o.deviceTimeoutMs);
  }

  private onMessage(topic: string, payload: Buffer): void {
    if (this.stopped) return;
    if (topic === this.topic(OTA_TOPICS.request)) {
      const req = this.parse(OtaRequest, payload, topic) as OtaRequest | undefined;
      if (!req) return;
      this.armSilence();
      // A device asking for many chunks at once would pile them up in the broker's queue for it: answer a
      // few, and let the rest be asked again (the device re-requests what it did not get).
      if (this.inFlight.size >= MAX_IN_FLIGHT) return;
      const p = this.serve(req).catch((err: unknown) => this.o.logger.warn({ err: String(err), jobId: this.o.job.jobId }, 'firmware chunk not sent'));
      this.inFlight.add(p);
      void p.finally(() => this.inFlight.delete(p));
    } else if (topic === this.topic(OTA_TOPICS.status)) {
      const st = this.parse(OtaStatus, payload, topic) as OtaStatus | undefined;
      if (!st) return;
      // A late status of an earlier job on this device is not about this one.
      if (st.job_id !== this.o.job.jobId) return;
      this.armSilence();
      this.o.onStatus(st);
    }
  }

  private parse(schema: typeof OtaRequest | typeof OtaStatus, payload: Buffer, topic: string): unknown {
    let value: unknown;
    try {
      value = JSON.parse(payload.toString('utf8'));
    } catch {
      value = undefined;
    }
    const problems = value === undefined ? [{ path: '', message: 'is not JSON' }] : schemaErrors(schema, value);
    if (problems.length === 0) return value;
    this.o.logger.warn({ code: 'GS_ERR_FIRMWARE_OTA_MESSAGE', deviceId: this.o.account.deviceId, topic, problems: problems.slice(0, 5) }, 'OTA message from the device is malformed; ignored');
    const jobId = (value as { job_id?: unknown } | undefined)?.job_id;
    void this.error(typeof jobId === 'string' ? jobId : '', `malformed message on ${topic}: ${problems.map((p) => `${p.path || '/'} ${p.message}`).join('; ')}`);
    return undefined;
  }

  private async serve(req: OtaRequest): Promise<void> {
    const { size } = this.o.job.artifact.manifest;
    if (req.job_id !== this.o.job.jobId) return this.error(req.job_id, `job ${req.job_id} is not on offer here (offered: ${this.o.job.jobId})`);
    if (req.offset >= size || req.length > this.o.chunkSize) {
      return this.error(req.job_id, `request offset ${req.offset} length ${req.length} is out of range (size ${size}, chunk_size ${this.o.chunkSize})`);
    }
    const length = Math.min(req.length, size - req.offset);
    const data = Buffer.alloc(length);
    const { bytesRead } = await this.file!.read(data, 0, length, req.offset);
    if (this.stopped) return;
    await this.o.broker.publish(this.topic(OTA_TOPICS.chunk), encodeChunk({ jobId: req.job_id, offset: req.offset, size, data: data.subarray(0, bytesRead) }), { qos: 1 });
  }

  private async error(jobId: string, message: string): Promise<void> {
    const e: OtaError = { job_id: jobId, code: 'GS_ERR_FIRMWARE_OTA_MESSAGE', message: message.slice(0, 1000) };
    this.o.logger.warn({ code: e.code, deviceId: this.o.account.deviceId, jobId }, message);
    await this.o.broker.publish(this.topic(OTA_TOPICS.error), Buffer.from(JSON.stringify(e)), { qos: 1 }).catch(() => undefined);
  }
}
