// The RTSP health probe of one camera: ffprobe reads the stream's facts from a few seconds of packets
// (stream-facts.ts); then, when asked, ffmpeg decodes a few seconds through blackdetect/freezedetect
// (picture.ts). Both children are killed past a hard timeout. A failure is a result with a stable
// reason, never a throw, so a cycle over 200 cameras needs no try/catch per camera.
//
// RtspProber runs probes through one ProbePool, so all the cameras of an edge share a few slots.
import { CAMERA_REASONS, isCameraFailure, redactUrl, type CameraReason } from './failure.js';
import { withCredentials, type FfmpegInputOptions } from './ffmpeg-common.js';
import { analysePicture, type PictureFacts, type PictureOptions } from './picture.js';
import { ProbePool, type ProbePoolOptions } from './probe-pool.js';
import { readStreamFacts, type StreamFacts } from './stream-facts.js';

export interface RtspProbeOptions extends FfmpegInputOptions {
  /** Seconds of packets ffprobe reads for fps, bitrate and GOP. Default 4. */
  sampleSeconds?: number;
  /** Seconds of video decoded for black / frozen; 0 skips the analysis. Default 4. */
  analyseSeconds?: number;
  /** Thresholds of the picture analysis (see picture.ts). */
  picture?: Omit<PictureOptions, 'seconds' | 'signal' | 'ffmpegPath' | keyof FfmpegInputOptions>;
  /** Hard limit of each child, ms. Default: its window + connect timeout + 5 s. */
  timeoutMs?: number;
  ffmpegPath?: string;
  ffprobePath?: string;
  /** Credentials put into the URL for ffmpeg (never logged). */
  username?: string;
  password?: string;
  signal?: AbortSignal;
}

export type RtspProbeResult =
  | {
      ok: true;
      /** The URL probed, credentials redacted. */
      url: string;
      stream: StreamFacts;
      /** Present when the analysis ran and succeeded. */
      picture?: PictureFacts;
      /** Why the analysis failed when the stream facts were read (the stream dropped in between…). */
      pictureError?: { reason: CameraReason; message: string };
      tookMs: number;
    }
  | {
      ok: false;
      url: string;
      reason: CameraReason;
      /** True when nothing answered: a missed poll (camera_offline), not a refusal. */
      unreachable: boolean;
      message: string;
      tookMs: number;
    };

export async function probeRtsp(url: string, o: RtspProbeOptions = {}): Promise<RtspProbeResult> {
  const started = Date.now();
  const full = withCredentials(url, o.username, o.password);
  const shown = redactUrl(full);
  const input: FfmpegInputOptions = {};
  if (o.transport) input.transport = o.transport;
  if (o.connectTimeoutMs) input.connectTimeoutMs = o.connectTimeoutMs;
  let stream: StreamFacts;
  try {
    stream = await readStreamFacts(full, { ...input, sampleSeconds: o.sampleSeconds, timeoutMs: o.timeoutMs, ffprobePath: o.ffprobePath, signal: o.signal });
  } catch (err) {
    return { ok: false, url: shown, ...failure(err), tookMs: Date.now() - started };
  }
  const seconds = o.analyseSeconds ?? 4;
  if (seconds <= 0) return { ok: true, url: shown, stream, tookMs: Date.now() - started };
  try {
    const picture = await analysePicture(full, { ...o.picture, ...input, seconds, timeoutMs: o.timeoutMs, ffmpegPath: o.ffmpegPath, signal: o.signal });
    return { ok: true, url: shown, stream, picture, tookMs: Date.now() - started };
  } catch (err) {
    const f = failure(err);
    return { ok: true, url: shown, stream, pictureError: { reason: f.reason, message: f.message }, tookMs: Date.now() - started };
  }
}

function failure(err: unknown): { reason: CameraReason; unreachable: boolean; message: string } {
  if (isCameraFailure(err)) return { reason: err.reason, unreachable: err.unreachable, message: redactUrl(err.message) };
  const message = redactUrl(err instanceof Error ? err.message : String(err));
  return { reason: 'rtsp_bad_stream', unreachable: CAMERA_REASONS.rtsp_bad_stream.unreachable, message };
}

export interface RtspProberOptions extends ProbePoolOptions {
  /** Defaults for every probe; a camera's own options override them. */
  defaults?: Omit<RtspProbeOptions, 'signal' | 'username' | 'password'>;
}

/** Probes cameras through one shared pool; probe() of a camera already in the pool shares that probe. */
export class RtspProber {
  private readonly pool: ProbePool;

  constructor(private readonly o: RtspProberOptions = {}) {
    this.pool = new ProbePool(o);
  }

  /** `opts.signal` cancels this camera's probe (queued or running) without touching the others. */
  probe(cameraId: string, url: string, opts: RtspProbeOptions = {}): Promise<RtspProbeResult> {
    const started = Date.now();
    const { signal: own, ...rest } = opts;
    return this.pool
      .run(cameraId, (signal) => probeRtsp(url, { ...this.o.defaults, ...rest, signal }), own ? { signal: own } : {})
      .catch((err: unknown) => ({ ok: false as const, url: redactUrl(url), ...failure(err), tookMs: Date.now() - started }));
  }

  stats() {
    return this.pool.stats();
  }

  stop(): Promise<void> {
    return this.pool.stop();
  }
}
