// Camera failures as stable, snake_case reasons — what a reading carries and a health alarm quotes.
// RTSP probes (ffprobe / ffmpeg) and ONVIF calls share the catalogue; `unreachable` says whether the
// camera did not answer at all (a missed poll: camera_offline) or answered and refused (video_loss,
// a configuration problem).
import { GsError, type ErrorCode } from '../../contracts/errors.js';

export const CAMERA_REASONS = {
  /** Connection refused, no route, host unknown, socket timeout: nothing answered. */
  rtsp_unreachable: { unreachable: true, code: 'GS_ERR_DEVICE_UNREACHABLE' },
  /** The RTSP server answered 401: credentials missing or wrong. */
  rtsp_auth: { unreachable: false, code: 'GS_ERR_DRIVER_CONNECTION' },
  /** The RTSP server answered 404: the path (channel, profile) does not exist. */
  rtsp_not_found: { unreachable: false, code: 'GS_ERR_DRIVER_CONNECTION' },
  /** Another RTSP error status (403, 453 not enough bandwidth, 5xx…). */
  rtsp_refused: { unreachable: false, code: 'GS_ERR_DRIVER_CONNECTION' },
  /** The session was set up but no video stream came. */
  rtsp_no_video: { unreachable: false, code: 'GS_ERR_DRIVER_CONNECTION' },
  /** Data came but could not be demuxed or decoded. */
  rtsp_bad_stream: { unreachable: false, code: 'GS_ERR_DRIVER_CONNECTION' },
  /** The hard timeout killed the probe. */
  probe_timeout: { unreachable: true, code: 'GS_ERR_DEVICE_UNREACHABLE' },
  /** The probe was cancelled (edge stopping, pool stopped). */
  probe_aborted: { unreachable: false, code: 'GS_ERR_DRIVER_CLOSED' },
  /** ffmpeg / ffprobe is not installed or cannot run: an edge problem, not the camera's. */
  ffmpeg_missing: { unreachable: false, code: 'GS_ERR_INTERNAL' },
  /** The probe queue is full: more cameras than the pool can probe in time. */
  probe_overloaded: { unreachable: false, code: 'GS_ERR_INTERNAL' },

  /** A snapshot larger than the cap (a camera streaming instead of answering with one picture). */
  snapshot_too_large: { unreachable: false, code: 'GS_ERR_SNAPSHOT_FAILED' },
  /** The snapshot is not a JPEG (an HTML error page, a cut-off transfer). */
  snapshot_not_jpeg: { unreachable: false, code: 'GS_ERR_SNAPSHOT_FAILED' },

  onvif_unreachable: { unreachable: true, code: 'GS_ERR_DEVICE_UNREACHABLE' },
  onvif_timeout: { unreachable: true, code: 'GS_ERR_DEVICE_UNREACHABLE' },
  /** WS-Security or HTTP digest refused (wrong password, or a camera clock too far off). */
  onvif_auth: { unreachable: false, code: 'GS_ERR_DRIVER_CONNECTION' },
  /** A SOAP fault other than authentication. */
  onvif_fault: { unreachable: false, code: 'GS_ERR_DRIVER_CONNECTION' },
  /** The pull point is gone (camera rebooted, subscription expired): subscribe again. */
  onvif_unknown_subscription: { unreachable: false, code: 'GS_ERR_DRIVER_CONNECTION' },
  /** Not SOAP, or SOAP without what the operation returns. */
  onvif_bad_response: { unreachable: false, code: 'GS_ERR_DRIVER_CONNECTION' },
  onvif_aborted: { unreachable: false, code: 'GS_ERR_DRIVER_CLOSED' },
} as const satisfies Record<string, { unreachable: boolean; code: ErrorCode }>;

export type CameraReason = keyof typeof CAMERA_REASONS;

export class CameraFailure extends GsError {
  readonly unreachable: boolean;
  /** For SOAP faults: the most specific subcode, e.g. `ter:NotAuthorized`. */
  readonly faultSubcode: string | undefined;
  /** For SOAP faults: the Detail's leaf elements by local name (e.g. MaxTimeout of a PullMessagesFaultResponse). */
  readonly faultDetail: Readonly<Record<string, string>>;
  constructor(
    readonly reason: CameraReason,
    message?: string,
    options?: { cause?: unknown; faultSubcode?: string; faultDetail?: Record<string, string> },
  ) {
    super(CAMERA_REASONS[reason].code, message ?? reason, [], options);
    this.unreachable = CAMERA_REASONS[reason].unreachable;
    this.faultSubcode = options?.faultSubcode;
    this.faultDetail = options?.faultDetail ?? {};
  }
}

export function isCameraFailure(err: unknown): err is CameraFailure {
  return err instanceof CameraFailure;
}

/** `rtsp://user:pass@host/…` → `rtsp://***@host/…`, for anything that reaches a log or an alarm. */
export function redactUrl(text: string): string {
  return text.replace(/\b([a-z][a-z0-9+.-]*:\/\/)[^/@\s]*@/gi, '$1***@');
}
