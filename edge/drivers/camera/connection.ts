// The `connection` blocks of cameras in edge.yaml: `onvif` (the camera's ONVIF device service; the
// stream URI is asked from it, events come from its PullPoint) and `rtsp` (a stream URL alone, for
// cameras without ONVIF or an NVR channel addressed directly).
import { createHash } from 'node:crypto';
import Type from 'typebox';
import { Duration, durationMs } from '../../../contracts/duration.js';
import type { ErrorDetail } from '../../../contracts/errors.js';
import { schemaErrors } from '../../../contracts/validate.js';
import { loadTopicMaps } from '../../cameras/onvif/topics.js';
import type { ConnectionConfig } from '../driver.js';

export const TRANSPORTS = ['tcp', 'udp'] as const;
export type Transport = (typeof TRANSPORTS)[number];

const RTSP_URL = '^rtsps?://\\S+$';

/** What both kinds share: the probe windows and RTP transport. */
const probeFields = {
  /** Set by the edge agent when it opens the session; not written in edge.yaml. */
  deviceId: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
  /** RTP over the RTSP TCP connection (default: passes NAT and firewalls) or over UDP. */
  transport: Type.Optional(Type.Enum(TRANSPORTS)),
  /** Seconds of packets ffprobe reads for frame rate, bitrate and keyframe interval (default 4s; two keyframes must fit). */
  sample: Type.Optional(Duration),
  /** Seconds of video decoded for black / frozen (default 4s); 0 skips the picture analysis for this camera. */
  analyse: Type.Optional(Duration),
};

export const OnvifConnection = Type.Object(
  {
    protocol: Type.Literal('onvif'),
    /** Host name or IP address of the camera (or NVR). */
    host: Type.String({ minLength: 1, maxLength: 253, pattern: '^[^\\s/:@]+$' }),
    /** HTTP port of the ONVIF device service (default 80). */
    port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535 })),
    /** Path of the device service (default /onvif/device_service). */
    path: Type.Optional(Type.String({ pattern: '^/\\S*$' })),
    username: Type.Optional(Type.String({ minLength: 1 })),
    password: Type.Optional(Type.String()),
    /** The media profile whose stream is probed (default: the camera's first; an NVR channel's token). */
    profileToken: Type.Optional(Type.String({ minLength: 1 })),
    /**
     * Probe this URL instead of the one the camera advertises (NAT, a camera reporting a wrong address);
     * credentials written in it are used for the stream instead of username/password.
     */
    rtspUrl: Type.Optional(Type.String({ pattern: RTSP_URL })),
    /** Event topic map (edge/cameras/onvif/topics.yaml): onvif (default), hikvision, dahua, uniview. */
    vendor: Type.Optional(Type.String({ minLength: 1 })),
    /** Time limit of each ONVIF request (default 10s). */
    timeout: Type.Optional(Duration),
    ...probeFields,
  },
  { additionalProperties: false },
);
export type OnvifConnection = Type.Static<typeof OnvifConnection>;

export const RtspConnection = Type.Object(
  {
    protocol: Type.Literal('rtsp'),
    /** rtsp://host[:port]/path; exactly one of url / rtspUrl. */
    url: Type.Optional(Type.String({ pattern: RTSP_URL })),
    rtspUrl: Type.Optional(Type.String({ pattern: RTSP_URL })),
    username: Type.Optional(Type.String({ minLength: 1 })),
    password: Type.Optional(Type.String()),
    ...probeFields,
  },
  { additionalProperties: false },
);
export type RtspConnection = Type.Static<typeof RtspConnection>;

interface ResolvedCommon {
  deviceId?: string;
  username?: string;
  password?: string;
  transport: Transport;
  /** Undefined: the driver's default. */
  sampleSeconds?: number;
  analyseSeconds?: number;
  busId: string;
}

export interface ResolvedOnvif extends ResolvedCommon {
  kind: 'onvif';
  host: string;
  port: number;
  path: string;
  profileToken?: string;
  rtspUrl?: string;
  vendor: string;
  timeoutMs: number;
}

export interface ResolvedRtsp extends ResolvedCommon {
  kind: 'rtsp';
  url: string;
}

export type ResolvedCamera = ResolvedOnvif | ResolvedRtsp;

/** Problems shared by both kinds: credentials that go together, windows that make sense. */
function commonErrors(c: { username?: string; password?: string; sample?: Duration; analyse?: Duration }): ErrorDetail[] {
  const out: ErrorDetail[] = [];
  if (c.password !== undefined && c.username === undefined) out.push({ path: '/password', message: 'a password needs a username' });
  if (c.sample !== undefined && durationMs(c.sample) < 500) out.push({ path: '/sample', message: 'must be at least 500ms (frame rate and bitrate need a few frames; the keyframe interval needs two keyframes)' });
  if (c.analyse !== undefined) {
    const ms = durationMs(c.analyse);
    if (ms > 0 && ms < 1000) out.push({ path: '/analyse', message: 'must be 0 (no picture analysis) or at least 1s' });
  }
  return out;
}

export function onvifConnectionErrors(conn: ConnectionConfig): ErrorDetail[] {
  const details = schemaErrors(OnvifConnection, conn);
  if (details.length > 0) return details;
  const c = conn as unknown as OnvifConnection;
  details.push(...commonErrors(c));
  if (c.timeout !== undefined && durationMs(c.timeout) <= 0) details.push({ path: '/timeout', message: 'must be longer than 0' });
  if (c.vendor !== undefined) {
    const vendors = Object.keys(loadTopicMaps());
    if (!vendors.includes(c.vendor)) details.push({ path: '/vendor', message: `no topic map for "${c.vendor}" (edge/cameras/onvif/topics.yaml has ${vendors.join(', ')})` });
  }
  // Credentials in rtspUrl are the stream's own (some sites give RTSP another account than ONVIF).
  if (c.rtspUrl !== undefined) details.push(...urlErrors(c.rtspUrl, '/rtspUrl', undefined));
  return details;
}

export function rtspConnectionErrors(conn: ConnectionConfig): ErrorDetail[] {
  const details = schemaErrors(RtspConnection, conn);
  if (details.length > 0) return details;
  const c = conn as unknown as RtspConnection;
  details.push(...commonErrors(c));
  if ((c.url === undefined) === (c.rtspUrl === undefined)) {
    details.push({ path: c.url === undefined ? '' : '/rtspUrl', message: c.url === undefined ? 'needs "url" (rtsp://host:port/path)' : 'give "url" or "rtspUrl", not both' });
    return details;
  }
  const key = c.url !== undefined ? '/url' : '/rtspUrl';
  details.push(...urlErrors((c.url ?? c.rtspUrl)!, key, c.username));
  return details;
}

function urlErrors(url: string, path: string, username: string | undefined): ErrorDetail[] {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return [{ path, message: `"${redact(url)}" is not a URL` }];
  }
  if (!u.hostname) return [{ path, message: 'names no host' }];
  if (u.username && username !== undefined) return [{ path, message: 'credentials are in the URL and in username/password: give them once' }];
  return [];
}

function redact(url: string): string {
  return url.replace(/\/\/[^/@\s]*@/, '//***@');
}

function common(c: OnvifConnection | RtspConnection): Omit<ResolvedCommon, 'busId'> {
  return {
    ...(c.deviceId !== undefined ? { deviceId: c.deviceId } : {}),
    ...(c.username !== undefined ? { username: c.username, password: c.password ?? '' } : {}),
    transport: c.transport ?? 'tcp',
    ...(c.sample !== undefined ? { sampleSeconds: durationMs(c.sample) / 1000 } : {}),
    ...(c.analyse !== undefined ? { analyseSeconds: durationMs(c.analyse) / 1000 } : {}),
  };
}

export function resolveOnvif(conn: ConnectionConfig): ResolvedOnvif {
  const c = conn as unknown as OnvifConnection;
  const host = c.host.toLowerCase();
  const port = c.port ?? 80;
  return {
    kind: 'onvif',
    ...common(c),
    host,
    port,
    path: c.path ?? '/onvif/device_service',
    ...(c.profileToken !== undefined ? { profileToken: c.profileToken } : {}),
    ...(c.rtspUrl !== undefined ? { rtspUrl: c.rtspUrl } : {}),
    vendor: c.vendor ?? 'onvif',
    timeoutMs: c.timeout === undefined ? 10_000 : durationMs(c.timeout),
    // The channels of one NVR (one device service, several profile tokens) share health.
    busId: `bus:onvif://${host}:${port}`,
  };
}

export function resolveRtsp(conn: ConnectionConfig): ResolvedRtsp {
  const c = conn as unknown as RtspConnection;
  const url = (c.url ?? c.rtspUrl)!;
  return { kind: 'rtsp', ...common(c), url, busId: rtspBusId(url) };
}

/** `bus:rtsp://host:port`: the channels of one NVR or encoder share health. */
export function rtspBusId(url: string): string {
  try {
    const u = new URL(url);
    return `bus:rtsp://${u.hostname.toLowerCase()}:${u.port || (u.protocol === 'rtsps:' ? '322' : '554')}`;
  } catch {
    return `bus:rtsp://${redact(url)}`;
  }
}

/**
 * Devices that share one ONVIF client (and one event subscription): the same device service with the
 * same identity. The password is in the key as a hash, never in clear.
 */
export function onvifLinkKey(c: ResolvedOnvif): string {
  const secret = c.password === undefined ? '' : createHash('sha256').update(c.password).digest('hex').slice(0, 16);
  return [c.host, c.port, c.path, c.username ?? '', secret, c.vendor].join('|');
}
