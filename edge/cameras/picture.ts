// Is the picture black or frozen? A short ffmpeg run (through fluent-ffmpeg) decodes a few seconds of
// the stream through ffmpeg's blackdetect and freezedetect filters into the null muxer and reads what
// they log. A covered or spray-painted lens reads black; a hung encoder or a still picture injected in
// front of the camera reads frozen (a black picture is frozen too: both are reported).
import ffmpeg from 'fluent-ffmpeg';
import { CameraFailure, redactUrl } from './failure.js';
import { classifyFfmpegError, hardLimit, rtspInputArgs, type FfmpegInputOptions } from './ffmpeg-common.js';

export interface PictureFacts {
  black: boolean;
  frozen: boolean;
  /** Seconds of black picture blackdetect reported in the window. */
  blackSeconds: number;
  /** Seconds the picture stood still, up to the end of the window. */
  frozenSeconds: number;
  /** Seconds of video analysed. */
  analysedSeconds: number;
}

export interface PictureOptions extends FfmpegInputOptions {
  /** Seconds of video to decode. Default 4. */
  seconds?: number;
  /** blackdetect: a pixel is black below this luminance fraction (pix_th). Default 0.10. */
  blackPixelThreshold?: number;
  /** blackdetect: shortest black period counted, s (d). Default 1. */
  blackMinSeconds?: number;
  /** black when black periods cover at least this fraction of the window. Default 0.8. */
  blackRatio?: number;
  /** freezedetect: noise tolerance, dB (n). Default -60. */
  freezeNoiseDb?: number;
  /** freezedetect: a still picture this long counts (d), s. Default 2. */
  freezeMinSeconds?: number;
  /** Hard limit, ms; past it ffmpeg is killed (SIGKILL). Default: seconds + connect timeout + 5 s. */
  timeoutMs?: number;
  ffmpegPath?: string;
  signal?: AbortSignal;
}

/** Decodes `seconds` of the stream and reports black / frozen; throws a CameraFailure. */
export function analysePicture(url: string, o: PictureOptions = {}): Promise<PictureFacts> {
  const seconds = o.seconds ?? 4;
  const blackMin = o.blackMinSeconds ?? 1;
  const freezeMin = o.freezeMinSeconds ?? 2;
  const timeoutMs = o.timeoutMs ?? seconds * 1000 + (o.connectTimeoutMs ?? 5000) + 5000;
  return new Promise((resolve, reject) => {
    if (o.signal?.aborted) return reject(new CameraFailure('probe_aborted', 'analysis cancelled before it started'));
    const cmd = ffmpeg(url, { stdoutLines: 1 })
      .inputOptions([...rtspInputArgs(url, o), '-threads', '1'])
      .noAudio()
      .outputOptions(['-sn', '-dn'])
      .duration(seconds)
      .videoFilters([`blackdetect=d=${blackMin}:pix_th=${o.blackPixelThreshold ?? 0.1}`, `freezedetect=n=${o.freezeNoiseDb ?? -60}dB:d=${freezeMin}`])
      .format('null')
      .output('-');
    if (o.ffmpegPath) cmd.setFfmpegPath(o.ffmpegPath);

    let blackSeconds = 0;
    const freezes: Array<{ start: number; end?: number }> = [];
    let time = 0;
    let stderr = '';
    const limit = hardLimit(timeoutMs, o.signal, () => {
      try {
        cmd.kill('SIGKILL');
      } catch {
        // not started yet (binary lookup): the error handler reports it
      }
    });

    cmd.on('stderr', (line: string) => {
      stderr = (stderr + line + '\n').slice(-16_384);
      let m = /black_start:\s*([\d.]+)\s+black_end:\s*([\d.]+)\s+black_duration:\s*([\d.]+)/.exec(line);
      if (m) blackSeconds += Number(m[3]);
      m = /freezedetect\.freeze_start:\s*([\d.]+)/.exec(line);
      if (m) freezes.push({ start: Number(m[1]) });
      m = /freezedetect\.freeze_end:\s*([\d.]+)/.exec(line);
      if (m && freezes.length > 0) freezes[freezes.length - 1]!.end = Number(m[1]);
      m = /\btime=(\d+):(\d+):([\d.]+)/.exec(line);
      if (m) time = Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]);
    });
    cmd.on('error', (err: Error) =>
      limit.settle(() => {
        if (limit.killedFor === 'timeout') reject(new CameraFailure('probe_timeout', `ffmpeg analysis killed after ${timeoutMs} ms`));
        else if (limit.killedFor === 'aborted') reject(new CameraFailure('probe_aborted', 'ffmpeg analysis cancelled'));
        else if (/Cannot find ffmpeg|ENOENT/.test(err.message)) reject(new CameraFailure('ffmpeg_missing', 'ffmpeg is not installed (install Debian\'s ffmpeg)', { cause: err }));
        else reject(classifyFfmpegError(stderr || err.message, redactUrl(err.message)));
      }),
    );
    cmd.on('end', () =>
      limit.settle(() => {
        const analysed = Math.min(time || seconds, seconds);
        if (analysed <= 0) return reject(new CameraFailure('rtsp_no_video', 'no frame was decoded'));
        // freezedetect logs a start once the picture has stood still for freezeMin; one with no end
        // is still frozen when the window closes. Ended freezes count whole, an open one up to the end.
        const frozenSeconds = freezes.reduce((sum, f) => sum + ((f.end ?? analysed) - f.start), 0);
        const stillFrozen = freezes.length > 0 && freezes[freezes.length - 1]!.end === undefined;
        resolve({
          black: blackSeconds >= (o.blackRatio ?? 0.8) * analysed,
          frozen: stillFrozen,
          blackSeconds: Math.round(blackSeconds * 100) / 100,
          frozenSeconds: Math.round(Math.max(0, frozenSeconds) * 100) / 100,
          analysedSeconds: Math.round(analysed * 100) / 100,
        });
      }),
    );
    cmd.run();
  });
}
