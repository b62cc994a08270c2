// A JPEG from a camera, as alarm evidence or for the local API. An ONVIF camera is asked for its
// snapshot URI (GetSnapshotUri, once, then kept) and the picture fetched over HTTP with digest auth;
// when the camera has no snapshot URI or that fetch fails, and for RTSP-only cameras, ffmpeg decodes
// one frame of the RTSP stream into a JPEG. Every child runs under the shared hardLimit, the bytes
// are capped, the result must be a JPEG, and at most `concurrency` snapshots run at once (a second
// request for a camera already being snapped shares that snapshot). Credentials never reach a log:
// messages go through redactUrl.
import { spawn } from 'node:child_process';
import type { Clock } from '../../contracts/clock.js';
import { systemClock } from '../../contracts/clock.js';
import { isJpeg, sha256Hex } from '../../contracts/jpeg.js';
import { onvifLinkKey, type ResolvedCamera, type ResolvedOnvif } from '../drivers/camera/connection.js';
import { CameraFailure, isCameraFailure, redactUrl } from './failure.js';
import { classifyFfmpegError, hardLimit, rtspInputArgs, withCredentials, type FfmpegInputOptions } from './ffmpeg-common.js';
import { OnvifCamera } from './onvif/camera.js';
import { httpExchange } from './onvif/http.js';
import { ProbePool } from './probe-pool.js';

/** A JPEG is refused above this (a 4K frame at q 4 is about 1.5 MB). */
export const SNAPSHOT_MAX_BYTES = 4 * 1024 * 1024;

export interface FrameOptions extends FfmpegInputOptions {
  /** Hard limit of the ffmpeg child, ms (connect + first keyframe + encode). Default 15 s. */
  timeoutMs?: number;
  maxBytes?: number;
  ffmpegPath?: string;
  username?: string;
  password?: string;
  signal?: AbortSignal;
}

/** One frame of an RTSP stream (or any input ffmpeg reads) as a JPEG; throws a CameraFailure. */
export function grabFrame(url: string, o: FrameOptions = {}): Promise<Buffer> {
  const full = withCredentials(url, o.username, o.password);
  const timeoutMs = o.timeoutMs ?? 15_000;
  const maxBytes = o.maxBytes ?? SNAPSHOT_MAX_BYTES;
  const args = ['-hide_banner', '-nostdin', '-loglevel', 'error', ...rtspInputArgs(full, o), '-i', full, '-an', '-sn', '-dn', '-frames:v', '1', '-q:v', '4', '-f', 'image2', '-c:v', 'mjpeg', 'pipe:1'];
  return new Promise((resolve, reject) => {
    if (o.signal?.aborted) return reject(new CameraFailure('probe_aborted', 'snapshot cancelled before it started'));
    const child = spawn(o.ffmpegPath ?? 'ffmpeg', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    let stderr = '';
    const limit = hardLimit(timeoutMs, o.signal, () => child.kill('SIGKILL'));
    child.stdout.on('data', (c: Buffer) => {
      size += c.length;
      if (size > maxBytes) {
        tooLarge = true;
        child.kill('SIGKILL');
        return;
      }
      chunks.push(c);
    });
    child.stderr.on('data', (c: Buffer) => void (stderr = (stderr + c.toString()).slice(-8192)));
    child.once('error', (err: NodeJS.ErrnoException) =>
      limit.settle(() =>
        reject(err.code === 'ENOENT' ? new CameraFailure('ffmpeg_missing', "ffmpeg is not installed (install Debian's ffmpeg)", { cause: err }) : new CameraFailure('rtsp_bad_stream', redactUrl(err.message), { cause: err })),
      ),
    );
    child.once('close', (code) =>
      limit.settle(() => {
        const jpeg = Buffer.concat(chunks);
        if (limit.killedFor === 'timeout') return reject(new CameraFailure('probe_timeout', `no frame from ${redactUrl(full)} in ${timeoutMs} ms`));
        if (limit.killedFor === 'aborted') return reject(new CameraFailure('probe_aborted', 'snapshot cancelled'));
        if (tooLarge) return reject(new CameraFailure('snapshot_too_large', `the frame is larger than ${maxBytes} bytes`));
        if (code !== 0 || jpeg.length === 0) return reject(classifyFfmpegError(stderr, `ffmpeg exited with ${code} and no frame`));
        if (!isJpeg(jpeg)) return reject(new CameraFailure('snapshot_not_jpeg', 'ffmpeg wrote something that is not a JPEG'));
        resolve(jpeg);
      }),
    );
  });
}

export interface Snapshot {
  jpeg: Buffer;
  sha256: string;
  takenAt: number;
  /** Where it came from: the camera's snapshot URI, or a frame of its stream. */
  source: 'onvif' | 'rtsp';
}

export interface SnapshotterOptions {
  /** Snapshots at once over every camera (each an HTTP fetch or an ffmpeg decode). Default 2. */
  concurrency?: number;
  /** Snapshots waiting at most; beyond, refused (probe_overloaded). Default 100. */
  maxQueued?: number;
  /** Per snapshot, ms. Default 15 s. */
  timeoutMs?: number;
  maxBytes?: number;
  ffmpegPath?: string;
  clock?: Clock;
}

/** Cached per ONVIF device service and identity: its client and the snapshot URI of each profile. */
interface OnvifEntry {
  camera: OnvifCamera;
  uris: Map<string, string>;
}

export class Snapshotter {
  private readonly pool: ProbePool;
  private readonly onvif = new Map<string, OnvifEntry>();
  private readonly clock: Clock;

  constructor(private readonly o: SnapshotterOptions = {}) {
    this.pool = new ProbePool({ concurrency: o.concurrency ?? 2, maxQueued: o.maxQueued ?? 100 });
    this.clock = o.clock ?? systemClock;
  }

  /** A JPEG from the camera `cameraId` (its resolved connection block); throws a CameraFailure. */
  take(cameraId: string, c: ResolvedCamera, opts: { signal?: AbortSignal } = {}): Promise<Snapshot> {
    return this.pool.run(`snap:${cameraId}`, (signal) => this.snap(c, signal), opts);
  }

  stats() {
    return this.pool.stats();
  }

  async stop(): Promise<void> {
    await this.pool.stop();
    await Promise.all([...this.onvif.values()].map((e) => e.camera.close().catch(() => undefined)));
    this.onvif.clear();
  }

  private async snap(c: ResolvedCamera, signal: AbortSignal): Promise<Snapshot> {
    if (c.kind === 'onvif') {
      let onvifError: CameraFailure | undefined;
      try {
        return this.done(await this.fromSnapshotUri(c, signal), 'onvif');
      } catch (err) {
        if (signal.aborted) throw err;
        onvifError = asFailure(err);
      }
      // No snapshot URI, or it failed: one frame of the stream instead.
      try {
        return this.done(await this.fromStream(c, await this.streamUrl(c), signal), 'rtsp');
      } catch (err) {
        const f = asFailure(err);
        throw new CameraFailure(f.reason, `snapshot URI: ${onvifError.reason} (${onvifError.message}); stream: ${f.message}`, { cause: f });
      }
    }
    return this.done(await this.fromStream(c, c.url, signal), 'rtsp');
  }

  private done(jpeg: Buffer, source: Snapshot['source']): Snapshot {
    return { jpeg, sha256: sha256Hex(jpeg), takenAt: this.clock.now(), source };
  }

  private entry(c: ResolvedOnvif): OnvifEntry {
    const key = onvifLinkKey(c);
    let e = this.onvif.get(key);
    if (!e) {
      const camera = new OnvifCamera({
        host: c.host,
        port: c.port,
        path: c.path,
        ...(c.username !== undefined ? { username: c.username, password: c.password ?? '' } : {}),
        timeoutMs: Math.min(c.timeoutMs, this.o.timeoutMs ?? 15_000),
        vendor: c.vendor,
        clock: this.clock,
      });
      e = { camera, uris: new Map() };
      this.onvif.set(key, e);
    }
    return e;
  }

  private async fromSnapshotUri(c: ResolvedOnvif, signal: AbortSignal): Promise<Buffer> {
    const e = this.entry(c);
    const token = c.profileToken ?? '';
    let uri = e.uris.get(token);
    const fresh = uri === undefined;
    uri ??= await e.camera.snapshotUri(c.profileToken);
    const res = await httpExchange(uri, {
      method: 'GET',
      timeoutMs: this.o.timeoutMs ?? 15_000,
      signal,
      maxBytes: this.o.maxBytes ?? SNAPSHOT_MAX_BYTES,
      ...(c.username !== undefined ? { auth: { username: c.username, password: c.password ?? '' } } : {}),
    });
    const host = new URL(uri).host;
    if (res.status === 401) throw new CameraFailure('onvif_auth', `snapshot at ${host} refused the credentials (HTTP 401)`);
    if (res.status !== 200) {
      // A URI the camera no longer serves (rebooted with other paths): ask again next time.
      e.uris.delete(token);
      throw new CameraFailure('onvif_bad_response', `snapshot at ${host} answered HTTP ${res.status}`);
    }
    if (!isJpeg(res.body)) throw new CameraFailure('snapshot_not_jpeg', `snapshot at ${host} is not a JPEG (${String(res.headers['content-type'] ?? 'no content type')})`);
    if (fresh) e.uris.set(token, uri);
    return res.body;
  }

  private async streamUrl(c: ResolvedOnvif): Promise<string> {
    return c.rtspUrl ?? this.entry(c).camera.streamUri(c.profileToken);
  }

  private fromStream(c: ResolvedCamera, url: string, signal: AbortSignal): Promise<Buffer> {
    const o: FrameOptions = { transport: c.transport, signal, timeoutMs: this.o.timeoutMs ?? 15_000, maxBytes: this.o.maxBytes ?? SNAPSHOT_MAX_BYTES };
    if (this.o.ffmpegPath) o.ffmpegPath = this.o.ffmpegPath;
    // The connection's account, unless the URL carries the stream's own.
    if (c.username !== undefined && !new URL(url).username) Object.assign(o, { username: c.username, password: c.password ?? '' });
    return grabFrame(url, o);
  }
}

function asFailure(err: unknown): CameraFailure {
  if (isCameraFailure(err)) return err;
  return new CameraFailure('rtsp_bad_stream', redactUrl(err instanceof Error ? err.message : String(err)), { cause: err });
}
