// GStreamer's RTSP server (gst-rtsp-server through GObject introspection, test/fixtures/rtsp_server.py)
// as a real, third-party RTSP peer: H.264 from x264enc over RTP, TCP or UDP, on 127.0.0.1 and a free
// port. Mounts: /live (a moving test pattern), /black, /frozen (one frame repeated); with `auth`, every
// mount asks for RTSP basic authentication. stop() ends it; start() again serves on the same port — a
// camera that lost power and came back.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { SYSTEM_PYTHON, freePort, pythonHasModule } from './services.js';

const SCRIPT = fileURLToPath(new URL('../fixtures/rtsp_server.py', import.meta.url));

/** What needs() names when the server cannot run. */
export const GST_RTSP_SERVER = 'GStreamer RTSP server (gir1.2-gst-rtsp-server-1.0, python3-gi, gstreamer1.0-plugins-base/good/ugly)';

export type RtspMount = 'live' | 'black' | 'frozen';

export interface RtspServerOptions {
  auth?: { user: string; password: string };
  width?: number;
  height?: number;
  fps?: number;
  /** Frames between keyframes. */
  gop?: number;
  /** x264 target, kbit/s. */
  bitrateKbps?: number;
  /** Also serve /cam/1 … /cam/N: N more live streams, each with its own encoder (benchmarks). */
  cameras?: number;
}

/** True when Debian's python can load GstRtspServer and x264enc is installed. */
export function gstRtspServerAvailable(): boolean {
  if (!pythonHasModule('gi')) return false;
  const check = [
    'import gi',
    "gi.require_version('Gst', '1.0')",
    "gi.require_version('GstRtspServer', '1.0')",
    'from gi.repository import Gst, GstRtspServer',
    'Gst.init(None)',
    "missing = [e for e in ('x264enc', 'rtph264pay', 'videotestsrc', 'imagefreeze', 'videoconvert') if Gst.ElementFactory.find(e) is None]",
    'raise SystemExit(1 if missing else 0)',
  ].join('\n');
  return spawnSync(SYSTEM_PYTHON, ['-c', check], { stdio: 'ignore', timeout: 20_000 }).status === 0;
}

export class GstRtspServer {
  port = 0;
  private proc?: ChildProcess;

  constructor(private readonly opts: RtspServerOptions = {}) {}

  async start(): Promise<this> {
    if (this.port === 0) this.port = await freePort();
    const o = this.opts;
    const args = [SCRIPT, '--port', String(this.port)];
    if (o.auth) args.push('--user', o.auth.user, '--password', o.auth.password);
    if (o.width) args.push('--width', String(o.width));
    if (o.height) args.push('--height', String(o.height));
    if (o.fps) args.push('--fps', String(o.fps));
    if (o.gop) args.push('--gop', String(o.gop));
    if (o.bitrateKbps) args.push('--bitrate', String(o.bitrateKbps));
    if (o.cameras) args.push('--cameras', String(o.cameras));
    // stdin is a pipe: the server exits when it closes, so it never outlives the test process.
    const proc = spawn(SYSTEM_PYTHON, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    this.proc = proc;
    let stderr = '';
    proc.stderr!.on('data', (c: Buffer) => void (stderr = (stderr + c.toString()).slice(-4000)));
    proc.stdin!.on('error', () => undefined);
    await new Promise<void>((resolve, reject) => {
      let buf = '';
      const timer = setTimeout(() => {
        proc.kill('SIGKILL');
        reject(new Error(`GStreamer RTSP server did not start in 15 s: ${stderr}`));
      }, 15_000);
      const onExit = (code: number | null) => {
        clearTimeout(timer);
        reject(new Error(`GStreamer RTSP server exited with ${code}: ${stderr}`));
      };
      proc.once('exit', onExit);
      proc.stdout!.on('data', (c: Buffer) => {
        buf += c.toString();
        if (buf.includes('READY')) {
          clearTimeout(timer);
          proc.off('exit', onExit);
          resolve();
        }
      });
    });
    return this;
  }

  /** rtsp://127.0.0.1:<port>/<mount>, with credentials in the URL when given. */
  url(mount: RtspMount | string, creds?: { user: string; password: string }): string {
    const auth = creds ? `${encodeURIComponent(creds.user)}:${encodeURIComponent(creds.password)}@` : '';
    return `rtsp://${auth}127.0.0.1:${this.port}/${mount}`;
  }

  get running(): boolean {
    const p = this.proc;
    return p !== undefined && p.exitCode === null && p.signalCode === null;
  }

  async stop(): Promise<void> {
    const proc = this.proc;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      proc.once('exit', () => resolve());
      proc.kill('SIGTERM');
      setTimeout(() => proc.kill('SIGKILL'), 3000).unref();
    });
  }
}
