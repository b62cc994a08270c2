// Firmware images on the edge's disk: `<dataDir>/firmware/images/<sha256>.bin`, verified, shared by every
// job that ships the same bytes. A download in progress is `<sha256>.part` and resumes with a Range
// request after a dropped link or an edge restart. Nothing reaches a device (or the edge's own release
// folder) unless its Ed25519 signature verifies against a trusted key AND its bytes match the SHA-256.
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { GsError } from '../../contracts/errors.js';
import { verifyManifest, type FirmwareArtifactRef } from '../../contracts/firmware.js';
import type { Logger } from '../log.js';
import type { FirmwareCloud } from './cloud.js';
import type { TrustedKey } from './config.js';

export function imagesDir(dataDir: string): string {
  return join(dataDir, 'firmware', 'images');
}

export interface ImageStoreOptions {
  dataDir: string;
  cloud: FirmwareCloud;
  trustedKeys: readonly TrustedKey[];
  logger: Logger;
}

export class ImageStore {
  private readonly dir: string;
  /** One download per image, however many jobs wait for it. */
  private readonly inFlight = new Map<string, Promise<string>>();

  constructor(private readonly o: ImageStoreOptions) {
    this.dir = imagesDir(o.dataDir);
  }

  /** Throws GS_ERR_FIRMWARE_SIGNATURE unless a trusted key signed this manifest. Costs no download. */
  checkSignature(a: FirmwareArtifactRef): void {
    if (!a.signature) throw new GsError('GS_ERR_FIRMWARE_SIGNATURE', `image ${a.manifest.version} (${a.id}) is unsigned`);
    if (this.o.trustedKeys.length === 0) throw new GsError('GS_ERR_FIRMWARE_SIGNATURE', 'this edge trusts no firmware key (firmware.trustedKeys)');
    if (!verifyManifest(a.manifest, a.signature, this.o.trustedKeys.map((k) => k.pem))) {
      const known = this.o.trustedKeys.some((k) => k.keyId === a.keyId);
      throw new GsError('GS_ERR_FIRMWARE_SIGNATURE', `signature of image ${a.manifest.version} (${a.id}) does not verify${known ? '' : ` (key ${a.keyId} is not trusted here)`}`);
    }
  }

  /** The verified image's path, downloading (or resuming) it first. Throws a GsError with the reason. */
  obtain(a: FirmwareArtifactRef, signal: AbortSignal, onBytes?: (n: number) => void): Promise<string> {
    this.checkSignature(a);
    const key = a.manifest.sha256;
    let p = this.inFlight.get(key);
    if (!p) {
      p = this.fetchImage(a, signal, onBytes).finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, p);
    }
    return p;
  }

  /** Deletes images (whole or partial) no job in `keep` (SHA-256s) needs any more. */
  prune(keep: ReadonlySet<string>): string[] {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch {
      return [];
    }
    const gone: string[] = [];
    for (const name of names) {
      const m = /^([0-9a-f]{64})\.(bin|part)$/.exec(name);
      if (!m || keep.has(m[1]!) || this.inFlight.has(m[1]!)) continue;
      rmSync(join(this.dir, name), { force: true });
      gone.push(name);
    }
    return gone;
  }

  private async fetchImage(a: FirmwareArtifactRef, signal: AbortSignal, onBytes?: (n: number) => void): Promise<string> {
    const { sha256, size } = a.manifest;
    mkdirSync(this.dir, { recursive: true });
    const done = join(this.dir, `${sha256}.bin`);
    if (existsSync(done)) {
      // Re-hashed at each use: a flash card that rotted since must not ship a bad image.
      if ((await fileSha256(done)) === sha256 && statSync(done).size === size) return done;
      rmSync(done, { force: true });
    }
    const part = join(this.dir, `${sha256}.part`);
    let have = existsSync(part) ? statSync(part).size : 0;
    if (have > size) {
      rmSync(part);
      have = 0;
    }
    if (have < size) {
      const res = await this.o.cloud.download(a.downloadPath, have, signal);
      if (res.status === 200 && have > 0) {
        // The server ignored the Range: start over rather than append the whole image to a prefix.
        have = 0;
        rmSync(part, { force: true });
      } else if (res.status === 416) {
        await res.arrayBuffer();
        rmSync(part, { force: true });
        throw new GsError('GS_ERR_FIRMWARE_DOWNLOAD', `download of ${a.id} refused the resume at byte ${have} (416); starting over`);
      } else if (res.status !== 200 && res.status !== 206) {
        const text = (await res.text()).slice(0, 200);
        const err = new GsError('GS_ERR_FIRMWARE_DOWNLOAD', `download of ${a.id}: HTTP ${res.status} ${text}`);
        // A 4xx other than a timeout will not get better by retrying: the job fails with it.
        if (res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429) throw Object.assign(err, { permanent: true });
        throw err;
      }
      if (res.status === 206) checkContentRange(res.headers.get('content-range'), have, a.id);
      this.o.logger.info({ artifactId: a.id, version: a.manifest.version, from: have, size }, have > 0 ? 'firmware download resumed' : 'firmware download started');
      const fh = await open(part, have > 0 ? 'a' : 'w');
      try {
        if (!res.body) throw new GsError('GS_ERR_FIRMWARE_DOWNLOAD', `download of ${a.id}: empty body`);
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          if (have + chunk.length > size) throw Object.assign(new GsError('GS_ERR_FIRMWARE_CHECKSUM', `image ${a.id} is longer than its manifest's ${size} bytes`), { permanent: true });
          await fh.write(chunk);
          have += chunk.length;
          onBytes?.(have);
        }
        // Durable before it counts: a power cut after this line must not leave a short image named .bin.
        await fh.sync();
      } finally {
        await fh.close();
      }
    }
    if (have < size) throw new GsError('GS_ERR_FIRMWARE_DOWNLOAD', `download of ${a.id} ended at byte ${have} of ${size}; resuming`);
    const actual = await fileSha256(part);
    if (actual !== sha256) {
      rmSync(part, { force: true });
      throw Object.assign(new GsError('GS_ERR_FIRMWARE_CHECKSUM', `image ${a.id} has SHA-256 ${actual}, its manifest says ${sha256}`), { permanent: true });
    }
    renameSync(part, done);
    return done;
  }
}

function checkContentRange(header: string | null, from: number, id: string): void {
  const m = header ? /^bytes (\d+)-/.exec(header) : null;
  if (!m || Number(m[1]) !== from) throw new GsError('GS_ERR_FIRMWARE_DOWNLOAD', `download of ${id}: asked for bytes from ${from}, got Content-Range ${header ?? '(none)'}`);
}

export async function fileSha256(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** Whether an obtain() failure is final for the job (bad signature, bad bytes, a 404) or worth a retry. */
export function isPermanent(err: unknown): boolean {
  if (!(err instanceof GsError)) return false;
  if (err.code === 'GS_ERR_FIRMWARE_SIGNATURE' || err.code === 'GS_ERR_FIRMWARE_CHECKSUM') return true;
  return (err as { permanent?: boolean }).permanent === true;
}
