// What ffprobe and ffmpeg runs share: the RTSP input options and the reading of their error output
// into stable reasons. Needs ffmpeg ≥ 5 (Debian 12's 5.1): there `-timeout` is the RTSP socket I/O
// timeout; in 4.x it meant "listen" and `-stimeout` was the socket timeout.
import { CameraFailure, redactUrl, type CameraReason } from './failure.js';

export interface FfmpegInputOptions {
  /** RTP over the RTSP TCP connection (default: works through NAT and firewalls) or over UDP. */
  transport?: 'tcp' | 'udp';
  /** Socket I/O timeout inside ffmpeg, ms (connect, and silence once connected). Default 5000. */
  connectTimeoutMs?: number;
}

/** Input options placed before `-i` / the URL. */
export function rtspInputArgs(url: string, o: FfmpegInputOptions): string[] {
  if (!/^rtsps?:\/\//i.test(url)) return [];
  return ['-rtsp_transport', o.transport ?? 'tcp', '-timeout', String((o.connectTimeoutMs ?? 5000) * 1000)];
}

const RULES: Array<[RegExp, CameraReason]> = [
  [/401 Unauthorized|Server returned 401/, 'rtsp_auth'],
  [/404 Not Found|Server returned 404/, 'rtsp_not_found'],
  [/Connection refused|No route to host|Network is unreachable|Name or service not known|Temporary failure in name resolution|Connection timed out|Operation timed out|Connection reset|Broken pipe|End of file|Host is down/i, 'rtsp_unreachable'],
  [/Server returned \d{3}|method \w+ failed/i, 'rtsp_refused'],
  [/does not contain any stream|matches no streams|Output file #0 does not contain/i, 'rtsp_no_video'],
];

/** The reason an ffmpeg/ffprobe run failed, from its stderr; the message keeps the last line (credentials redacted). */
export function classifyFfmpegError(stderr: string, fallback: string): CameraFailure {
  const lines = redactUrl(stderr)
    .split(/\r?\n|\r/)
    .map((l) => l.trim())
    .filter((l) => l && !/^(frame|size)=/.test(l));
  const last = lines.slice(-3).join(' | ') || fallback;
  for (const [re, reason] of RULES) if (re.test(stderr)) return new CameraFailure(reason, last.slice(0, 500));
  if (/Cannot find ffmpeg|Cannot find ffprobe|spawn .*ENOENT/i.test(stderr)) return new CameraFailure('ffmpeg_missing', last);
  return new CameraFailure('rtsp_bad_stream', last.slice(0, 500));
}

/** Puts credentials into an RTSP URL (the form ffmpeg takes); the URL setters percent-encode them. */
export function withCredentials(url: string, user?: string, password?: string): string {
  if (!user) return url;
  const u = new URL(url);
  u.username = user;
  u.password = password ?? '';
  return u.toString();
}

/** The hard limit every ffmpeg/ffprobe child runs under: killed at `timeoutMs` or when `signal` aborts. */
export interface HardLimit {
  /** Runs `fn` for the first outcome only, disarming the timer and the abort listener. */
  settle(fn: () => void): void;
  /** Why the child was killed, if it was. */
  readonly killedFor: 'timeout' | 'aborted' | undefined;
}

export function hardLimit(timeoutMs: number, signal: AbortSignal | undefined, kill: () => void): HardLimit {
  let settled = false;
  let killedFor: 'timeout' | 'aborted' | undefined;
  const stop = (reason: 'timeout' | 'aborted') => {
    killedFor = reason;
    kill();
  };
  const onAbort = () => stop('aborted');
  const timer = setTimeout(() => stop('timeout'), timeoutMs);
  signal?.addEventListener('abort', onAbort, { once: true });
  return {
    settle(fn) {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      fn();
    },
    get killedFor() {
      return killedFor;
    },
  };
}
