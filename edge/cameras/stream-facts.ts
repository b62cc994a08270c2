// What a few seconds of an RTSP stream's packets say about it, read by ffprobe: codec, resolution,
// measured frame rate and bitrate, keyframe interval (the GOP, from the packets' key flags). No decoding,
// so it is cheap enough to run on every camera every cycle.
//
// ffprobe is spawned directly rather than through fluent-ffmpeg's ffprobe(): that one keeps only the
// [STREAM]/[FORMAT] sections (the packets are dropped) and gives no handle on the child, so it could
// neither measure the GOP nor be killed by a hard timeout. The picture analysis (black / frozen) does
// go through fluent-ffmpeg (picture.ts).
import { spawn } from 'node:child_process';
import { CameraFailure, redactUrl } from './failure.js';
import { classifyFfmpegError, hardLimit, rtspInputArgs, type FfmpegInputOptions } from './ffmpeg-common.js';

export interface StreamFacts {
  /** ffmpeg's codec name: h264, hevc, mjpeg… */
  codec: string;
  /** H.264/H.265 profile as ffprobe names it (Main, High, Constrained Baseline…). */
  profile?: string;
  width: number;
  height: number;
  /** Frames per second measured over the sample (else the stream's declared rate). */
  fps?: number;
  /** What the stream declares (SDP / SPS), for comparison with the measured rate. */
  declaredFps?: number;
  /** Measured over the sample, kbit/s. */
  bitrateKbps?: number;
  /** Seconds between keyframes, measured (needs two keyframes in the sample). */
  keyframeIntervalS?: number;
  /** Video packets in the sample. */
  packets: number;
  /** Seconds of stream time the sample covered. */
  sampleSeconds: number;
}

export interface StreamFactsOptions extends FfmpegInputOptions {
  /** Seconds of packets to read (stream time); needs to span two keyframes to measure the GOP. Default 4. */
  sampleSeconds?: number;
  /** Hard limit, ms: the child is killed with SIGKILL past it. Default: sample + connect timeout + 5 s. */
  timeoutMs?: number;
  ffprobePath?: string;
  signal?: AbortSignal;
}

interface FfprobeJson {
  streams?: Array<{ codec_name?: string; profile?: string; width?: number; height?: number; avg_frame_rate?: string; r_frame_rate?: string; bit_rate?: string }>;
  packets?: Array<{ pts_time?: string; dts_time?: string; size?: string; flags?: string }>;
}

/** Runs ffprobe on the stream; throws a CameraFailure with a stable reason. */
export async function readStreamFacts(url: string, opts: StreamFactsOptions = {}): Promise<StreamFacts> {
  const sample = opts.sampleSeconds ?? 4;
  const args = [
    '-v', 'error',
    ...rtspInputArgs(url, opts),
    '-select_streams', 'v:0',
    '-show_entries', 'stream=codec_name,profile,width,height,avg_frame_rate,r_frame_rate,bit_rate:packet=pts_time,dts_time,size,flags',
    '-read_intervals', `%+${sample}`,
    '-of', 'json',
    url,
  ];
  const timeoutMs = opts.timeoutMs ?? sample * 1000 + (opts.connectTimeoutMs ?? 5000) + 5000;
  const { stdout, stderr, code } = await runHardLimited(opts.ffprobePath ?? process.env.FFPROBE_PATH ?? 'ffprobe', args, timeoutMs, opts.signal);
  if (code !== 0) throw classifyFfmpegError(stderr, `ffprobe exited with ${code}`);
  let parsed: FfprobeJson;
  try {
    parsed = JSON.parse(stdout) as FfprobeJson;
  } catch (err) {
    throw new CameraFailure('rtsp_bad_stream', `ffprobe output is not JSON: ${redactUrl(stderr.trim()).slice(0, 300)}`, { cause: err });
  }
  return factsFrom(parsed);
}

/** Turns ffprobe's JSON into facts; exported for tests of the arithmetic. */
export function factsFrom(parsed: FfprobeJson): StreamFacts {
  const s = parsed.streams?.[0];
  if (!s || !s.codec_name || !s.width || !s.height) throw new CameraFailure('rtsp_no_video', 'the stream has no video track');
  const packets = parsed.packets ?? [];
  const timed = packets
    .map((p) => ({ t: num(p.pts_time) ?? num(p.dts_time), size: num(p.size) ?? 0, key: (p.flags ?? '').includes('K') }))
    .filter((p): p is { t: number; size: number; key: boolean } => p.t !== undefined)
    .sort((a, b) => a.t - b.t);
  const declaredFps = rate(s.avg_frame_rate) ?? rate(s.r_frame_rate);
  const facts: StreamFacts = { codec: s.codec_name, width: s.width, height: s.height, packets: packets.length, sampleSeconds: 0 };
  if (s.profile && s.profile !== 'unknown') facts.profile = s.profile;
  if (declaredFps !== undefined) facts.declaredFps = round(declaredFps, 2);

  if (timed.length >= 2) {
    const span = timed[timed.length - 1]!.t - timed[0]!.t;
    if (span > 0) {
      const fps = (timed.length - 1) / span;
      facts.fps = round(fps, 2);
      // Every packet counts for the bitrate (the untimed first one too); the span gains one frame.
      const bytes = packets.reduce((sum, p) => sum + (num(p.size) ?? 0), 0);
      facts.bitrateKbps = round((bytes * 8) / (span + 1 / fps) / 1000, 1);
      facts.sampleSeconds = round(span, 3);
    }
    const keys = timed.filter((p) => p.key).map((p) => p.t);
    if (keys.length >= 2) {
      const gaps = keys.slice(1).map((t, i) => t - keys[i]!);
      facts.keyframeIntervalS = round(median(gaps), 3);
    }
  }
  if (facts.fps === undefined && declaredFps !== undefined) facts.fps = round(declaredFps, 2);
  const declaredBitrate = num(s.bit_rate);
  if (facts.bitrateKbps === undefined && declaredBitrate) facts.bitrateKbps = round(declaredBitrate / 1000, 1);
  return facts;
}

interface ChildResult {
  stdout: string;
  stderr: string;
  code: number | null;
}

/**
 * Spawns `cmd` and kills it with SIGKILL after `timeoutMs` or when `signal` aborts. Output is capped
 * (a probe's JSON is small; a runaway child must not fill the edge's memory).
 */
export function runHardLimited(cmd: string, args: string[], timeoutMs: number, signal?: AbortSignal, maxBytes = 4 * 1024 * 1024): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new CameraFailure('probe_aborted', 'probe cancelled before it started'));
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], windowsHide: true });
    let stdout = '';
    let stderr = '';
    const limit = hardLimit(timeoutMs, signal, () => child.kill('SIGKILL'));
    child.stdout.on('data', (c: Buffer) => {
      if (stdout.length < maxBytes) stdout += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr = (stderr + c.toString()).slice(-16_384);
    });
    child.once('error', (err: NodeJS.ErrnoException) =>
      limit.settle(() => reject(err.code === 'ENOENT' ? new CameraFailure('ffmpeg_missing', `${cmd} is not installed (install Debian's ffmpeg)`, { cause: err }) : err)),
    );
    child.once('close', (code) =>
      limit.settle(() => {
        if (limit.killedFor === 'timeout') reject(new CameraFailure('probe_timeout', `${cmd} killed after ${timeoutMs} ms`));
        else if (limit.killedFor === 'aborted') reject(new CameraFailure('probe_aborted', `${cmd} cancelled`));
        else resolve({ stdout, stderr, code });
      }),
    );
  });
}

function num(v: string | number | undefined): number | undefined {
  if (v === undefined || v === 'N/A') return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
}

/** `30000/1001` → 29.97; `0/0` → undefined. */
function rate(v: string | undefined): number | undefined {
  if (!v) return undefined;
  const [a, b] = v.split('/').map(Number);
  if (!a || !b || !Number.isFinite(a) || !Number.isFinite(b)) return undefined;
  return a / b;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
