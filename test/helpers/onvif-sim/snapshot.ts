// JPEG sources for the simulator's snapshot URI, made by the real ffmpeg.
import { spawn } from 'node:child_process';

function ffmpegJpeg(args: string[], timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const p = spawn('ffmpeg', ['-v', 'error', ...args, '-frames:v', '1', '-f', 'image2', '-c:v', 'mjpeg', 'pipe:1'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.stdout.on('data', (c: Buffer) => out.push(c));
    p.stderr.on('data', (c: Buffer) => void (err += c.toString()));
    p.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    p.once('close', (code) => {
      clearTimeout(timer);
      const jpeg = Buffer.concat(out);
      if (code === 0 && jpeg.length > 0) resolve(jpeg);
      else reject(new Error(`ffmpeg made no JPEG (exit ${code}): ${err.trim().slice(-300)}`));
    });
  });
}

/** One frame of an RTSP stream as a JPEG, as a camera's snapshot endpoint serves its live picture. */
export function grabJpeg(rtspUrl: string, timeoutMs = 15_000): Promise<Buffer> {
  return ffmpegJpeg(['-rtsp_transport', 'tcp', '-i', rtspUrl], timeoutMs);
}

/** A test-pattern JPEG made once by ffmpeg's lavfi source, for tests without an RTSP stream. */
export function patternJpeg(width = 320, height = 240): Promise<Buffer> {
  return ffmpegJpeg(['-f', 'lavfi', '-i', `testsrc=size=${width}x${height}:rate=1`], 15_000);
}
