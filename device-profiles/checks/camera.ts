// Camera profiles (protocol `camera`, edge/drivers/camera/): a point carries no protocol block, its name
// says what it reads — a fact of the RTSP health probe, an ONVIF event or the camera's clock (edge/cameras/readings.ts keeps
// the driver's side of this list; a driver test holds the two equal).
import type { ProfilePoint } from '../../contracts/profile.js';
import type { AddProblem } from './index.js';

/**
 * `flag`: true/false, as type boolean or as type number (1 true, 0 false: what a `threshold:` rule can
 * watch) with a range inside [0, 1].
 */
type CameraValue = 'flag' | 'number' | 'string';

export const CAMERA_POINTS: Readonly<Record<string, { value: CameraValue; source: 'probe' | 'event' | 'clock'; what: string }>> = {
  online: { value: 'flag', source: 'probe', what: 'the RTSP stream answered with video' },
  codec: { value: 'string', source: 'probe', what: 'video codec: h264, hevc, mjpeg…' },
  width: { value: 'number', source: 'probe', what: 'picture width, px' },
  height: { value: 'number', source: 'probe', what: 'picture height, px' },
  fps: { value: 'number', source: 'probe', what: 'measured frame rate' },
  bitrate_kbps: { value: 'number', source: 'probe', what: 'measured bitrate, kbit/s' },
  keyframe_interval_s: { value: 'number', source: 'probe', what: 'seconds between keyframes' },
  black: { value: 'flag', source: 'probe', what: 'the picture is black (blackdetect)' },
  frozen: { value: 'flag', source: 'probe', what: 'the picture stands still (freezedetect)' },
  motion: { value: 'flag', source: 'event', what: 'ONVIF motion event' },
  tamper: { value: 'flag', source: 'event', what: 'ONVIF tamper event' },
  video_loss: { value: 'flag', source: 'event', what: 'ONVIF video-loss event' },
  clock_drift_s: { value: 'number', source: 'clock', what: "how far the camera's clock is from the edge's, seconds (absolute; ONVIF GetSystemDateAndTime)" },
};

const OTHER_BLOCKS = ['modbus', 'mqtt', 'opcua'] as const;

export function checkCameraPoint(p: ProfilePoint, at: string, add: AddProblem): void {
  for (const block of OTHER_BLOCKS) {
    if (p[block] !== undefined) add(`${at}/${block}`, `a camera point has no "${block}" block: its name says what it reads`);
  }
  const known = Object.hasOwn(CAMERA_POINTS, p.name) ? CAMERA_POINTS[p.name] : undefined;
  if (!known) {
    add(`${at}/name`, `"${p.name}" is not a camera point; camera points are named after what they read: ${Object.keys(CAMERA_POINTS).join(', ')}`);
    return;
  }
  if (p.access !== undefined && p.access !== 'read') add(`${at}/access`, 'camera points are read-only');
  if (known.value === 'flag') {
    if (p.type === 'string') add(`${at}/type`, `${p.name} is a flag: type boolean, or number (1 true, 0 false)`);
    else if (p.type === 'number' && p.range && (p.range.min < 0 || p.range.max > 1)) {
      add(`${at}/range`, `${p.name} is a flag read as 1 or 0: its range lies within [0, 1]`);
    }
  } else if (p.type !== known.value) {
    add(`${at}/type`, `${p.name} reads as type ${known.value} (${known.what})`);
  }
}

/** Nothing two camera points could share: a name reads one thing, and names are unique. */
export function checkCameraLayout(): void {}
