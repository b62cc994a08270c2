// Does a JPEG decode? Asked of the real ffprobe, not of our own magic-byte check.
import { spawnSync } from 'node:child_process';

/** What ffprobe decodes from the bytes: `<codec> <width>x<height>` (e.g. `mjpeg 320x240`), or `undefined x` when nothing. */
export function ffprobeDecodes(jpeg: Uint8Array): string {
  const r = spawnSync('ffprobe', ['-v', 'error', '-i', 'pipe:0', '-select_streams', 'v:0', '-show_entries', 'stream=codec_name,width,height', '-of', 'csv=p=0'], { input: jpeg });
  const [codec, w, h] = r.stdout.toString().trim().split(',');
  return `${codec} ${w}x${h}`;
}
