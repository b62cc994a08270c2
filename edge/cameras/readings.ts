// A probe result as raw point values, the form every driver hands the poller (edge/drivers/driver.ts).
// A camera profile names its points after the probe's fields:
//   online (boolean) · codec (string) · width, height (px) · fps · bitrate_kbps · keyframe_interval_s
//   black, frozen (boolean, from the picture analysis)
// and, pushed by the ONVIF event subscription: motion, tamper, video_loss (boolean); and, asked of an
// ONVIF camera each poll: clock_drift_s (seconds its clock is off from the edge's, absolute).
// The flags are raw booleans; a profile may type them `number` (the profile step makes 1 / 0 of them, what
// a `threshold:` rule watches), as the bundled camera profiles do. device-profiles/checks/camera.ts keeps
// the profile side of these names.
//
// - The probe worked: every field it measured is a value; one it could not measure (the GOP from a
//   sample with a single keyframe, the picture when the analysis was skipped) is `not_measured`.
// - Nothing answered (rtsp_unreachable, probe_timeout): every point is unreachable with that reason —
//   a missed poll, which edge/health/ turns into the camera's offline alarm.
// - The camera answered but gave no stream (rtsp_auth, rtsp_not_found, rtsp_no_video…): `online` is
//   false (a rule turns that into video_loss) and the other points carry the reason.
import type { RawPointValue } from '../drivers/driver.js';
import type { RtspProbeResult } from './rtsp-probe.js';

export const PROBE_POINTS = ['online', 'codec', 'width', 'height', 'fps', 'bitrate_kbps', 'keyframe_interval_s', 'black', 'frozen'] as const;
export type ProbePoint = (typeof PROBE_POINTS)[number];

export const EVENT_POINTS = ['motion', 'tamper', 'video_loss'] as const;
export type EventPoint = (typeof EVENT_POINTS)[number];

/** Read from the camera itself each poll (ONVIF GetSystemDateAndTime): a wrong clock breaks WS-Security and mis-dates evidence. */
export const CLOCK_POINTS = ['clock_drift_s'] as const;
export type ClockPoint = (typeof CLOCK_POINTS)[number];

export function isClockPoint(name: string): name is ClockPoint {
  return (CLOCK_POINTS as readonly string[]).includes(name);
}

export function isProbePoint(name: string): name is ProbePoint {
  return (PROBE_POINTS as readonly string[]).includes(name);
}

export function isEventPoint(name: string): name is EventPoint {
  return (EVENT_POINTS as readonly string[]).includes(name);
}

/** One raw value per point name, in the order given. */
export function probeReadings(points: readonly string[], r: RtspProbeResult): RawPointValue[] {
  return points.map((point): RawPointValue => {
    if (!r.ok) {
      if (r.unreachable) return { point, ok: false, reason: r.reason, unreachable: true };
      if (point === 'online') return { point, ok: true, value: false };
      return { point, ok: false, reason: r.reason, unreachable: false };
    }
    const v = probeValue(point, r);
    if (v !== undefined) return { point, ok: true, value: v };
    const reason = (point === 'black' || point === 'frozen') && r.pictureError ? r.pictureError.reason : isProbePoint(point) ? 'not_measured' : 'not_a_probe_point';
    return { point, ok: false, reason, unreachable: false };
  });
}

function probeValue(point: string, r: Extract<RtspProbeResult, { ok: true }>): number | boolean | string | undefined {
  const s = r.stream;
  switch (point) {
    case 'online':
      return true;
    case 'codec':
      return s.codec;
    case 'width':
      return s.width;
    case 'height':
      return s.height;
    case 'fps':
      return s.fps;
    case 'bitrate_kbps':
      return s.bitrateKbps;
    case 'keyframe_interval_s':
      return s.keyframeIntervalS;
    case 'black':
      return r.picture?.black;
    case 'frozen':
      return r.picture?.frozen;
    default:
      return undefined;
  }
}
