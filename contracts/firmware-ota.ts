import Type from 'typebox';
import { Sha256Hex } from './firmware.js';

/**
 * The device-facing OTA protocol on the edge's MQTT broker (firmware-specs/ota/README.md is the prose).
 * One TypeBox source for the edge's relay, the reference device and the JSON Schemas committed under
 * firmware-specs/ota/schemas/ (a test keeps the files equal to what otaJsonSchemas() generates).
 *
 * Topics are relative to the device's own topic root (`devices/<deviceId>/` by default), so the broker's
 * per-device ACL covers them with no new rule. Keys are snake_case as in firmware-specs/mqtt/conventions.md.
 */
export const OTA_TOPICS = {
  /** edge → device, retained: the image on offer; an empty retained payload withdraws it. */
  offer: 'ota/offer',
  /** device → edge: one chunk, by offset and length. */
  request: 'ota/request',
  /** edge → device: the bytes asked for, binary (encodeChunk). */
  chunk: 'ota/chunk',
  /** device → edge: progress and outcome. */
  status: 'ota/status',
  /** edge → device: a request the edge cannot answer. */
  error: 'ota/error',
} as const;

export const OTA_PROTOCOL_VERSION = 1;
export const DEFAULT_CHUNK_SIZE = 4096;
export const MIN_CHUNK_SIZE = 256;
export const MAX_CHUNK_SIZE = 256 * 1024;
/** A device re-sends a request it got no chunk for after this long. */
export const DEFAULT_REQUEST_TIMEOUT_S = 10;

const JobId = Type.String({ minLength: 1, maxLength: 64, description: 'the campaign job this is about' });
const Reason = Type.Object(
  {
    code: Type.String({ pattern: '^GS_ERR_[A-Z0-9_]+$', maxLength: 64, description: 'stable code, e.g. GS_ERR_FIRMWARE_CHECKSUM' }),
    message: Type.String({ maxLength: 1000 }),
  },
  { additionalProperties: false },
);

export const OtaOffer = Type.Object(
  {
    v: Type.Literal(OTA_PROTOCOL_VERSION, { description: 'protocol version' }),
    job_id: JobId,
    version: Type.String({ minLength: 1, maxLength: 64, description: 'firmware version on offer' }),
    size: Type.Integer({ minimum: 1, maximum: 0xffffffff, description: 'image size in bytes' }),
    sha256: Sha256Hex,
    profiles: Type.Array(Type.String({ minLength: 1, maxLength: 128 }), { minItems: 1, maxItems: 50, description: 'device profiles the image is for' }),
    signature: Type.String({ maxLength: 200, description: 'Ed25519 signature over the signing payload of (version, sha256, size, profiles), base64' }),
    key_id: Type.String({ maxLength: 64, description: 'which key signed: first 16 hex digits of SHA-256 of the raw public key' }),
    chunk_size: Type.Integer({ minimum: MIN_CHUNK_SIZE, maximum: MAX_CHUNK_SIZE, description: 'largest length a request may ask for' }),
    request_timeout_s: Type.Integer({ minimum: 1, maximum: 600, description: 're-request a chunk not received after this many seconds' }),
  },
  { additionalProperties: false, title: 'gridsense OTA offer (edge → device, <root>ota/offer, retained)' },
);
export type OtaOffer = Type.Static<typeof OtaOffer>;

export const OtaRequest = Type.Object(
  {
    job_id: JobId,
    offset: Type.Integer({ minimum: 0, maximum: 0xffffffff }),
    length: Type.Integer({ minimum: 1, maximum: MAX_CHUNK_SIZE }),
  },
  { additionalProperties: false, title: 'gridsense OTA chunk request (device → edge, <root>ota/request)' },
);
export type OtaRequest = Type.Static<typeof OtaRequest>;

/** What a device reports: the job states it goes through itself (`pending` and `cancelled` are the cloud's). */
export const OTA_DEVICE_STATES = ['downloading', 'verifying', 'installing', 'succeeded', 'failed'] as const;
export type OtaDeviceState = (typeof OTA_DEVICE_STATES)[number];

export const OtaStatus = Type.Object(
  {
    job_id: JobId,
    state: Type.Enum(OTA_DEVICE_STATES),
    bytes: Type.Optional(Type.Integer({ minimum: 0, description: 'bytes held so far (downloading)' })),
    reason: Type.Optional(Reason),
    running_version: Type.Optional(Type.String({ maxLength: 64, description: 'version running now: on succeeded, and on failed' })),
    ts: Type.Optional(Type.String({ maxLength: 40, description: 'device time, ISO 8601 with offset, for the record' })),
  },
  { additionalProperties: false, title: 'gridsense OTA status (device → edge, <root>ota/status)' },
);
export type OtaStatus = Type.Static<typeof OtaStatus>;

export const OtaError = Type.Object(
  {
    job_id: Type.String({ maxLength: 64 }),
    code: Reason.properties.code,
    message: Type.String({ maxLength: 1000 }),
  },
  { additionalProperties: false, title: 'gridsense OTA error (edge → device, <root>ota/error)' },
);
export type OtaError = Type.Static<typeof OtaError>;

/** Codes a device puts in `reason` when it fails a job. */
export const OTA_DEVICE_REASONS = ['GS_ERR_FIRMWARE_CHECKSUM', 'GS_ERR_FIRMWARE_SIGNATURE', 'GS_ERR_FIRMWARE_UNSUPPORTED', 'GS_ERR_FIRMWARE_INSTALL', 'GS_ERR_FIRMWARE_TIMEOUT'] as const;

/** Each schema as a plain JSON Schema document, by file name under firmware-specs/ota/schemas/. */
export function otaJsonSchemas(): Record<string, Record<string, unknown>> {
  const doc = (s: object) => ({ $schema: 'http://json-schema.org/draft-07/schema#', ...(JSON.parse(JSON.stringify(s)) as Record<string, unknown>) });
  return {
    'offer.schema.json': doc(OtaOffer),
    'request.schema.json': doc(OtaRequest),
    'status.schema.json': doc(OtaStatus),
    'error.schema.json': doc(OtaError),
  };
}

/*
 * Chunk payload: a small fixed header then the bytes. Big-endian, like every binary layout in
 * firmware-specs/mqtt/conventions.md; word 0 is the layout version.
 *   0  uint16  layout version (1)
 *   2  uint16  header length H in bytes (data starts at H; a device skips fields it does not know)
 *   4  uint32  offset of the data in the image
 *   8  uint32  image size
 *  12  uint16  job id length n
 *  14  n bytes job id, UTF-8
 *   H  data
 */
export const CHUNK_LAYOUT_VERSION = 1;
const FIXED = 14;

export interface OtaChunk {
  jobId: string;
  offset: number;
  size: number;
  data: Buffer;
}

export function encodeChunk(c: OtaChunk): Buffer {
  const id = Buffer.from(c.jobId, 'utf8');
  const head = Buffer.alloc(FIXED + id.length);
  head.writeUInt16BE(CHUNK_LAYOUT_VERSION, 0);
  head.writeUInt16BE(head.length, 2);
  head.writeUInt32BE(c.offset, 4);
  head.writeUInt32BE(c.size, 8);
  head.writeUInt16BE(id.length, 12);
  id.copy(head, FIXED);
  return Buffer.concat([head, c.data]);
}

/** The chunk, or undefined when the payload is not a chunk of a layout this code knows. */
export function decodeChunk(payload: Buffer): OtaChunk | undefined {
  if (payload.length < FIXED) return undefined;
  if (payload.readUInt16BE(0) !== CHUNK_LAYOUT_VERSION) return undefined;
  const headerLength = payload.readUInt16BE(2);
  const idLength = payload.readUInt16BE(12);
  if (headerLength < FIXED + idLength || headerLength > payload.length) return undefined;
  return {
    offset: payload.readUInt32BE(4),
    size: payload.readUInt32BE(8),
    jobId: payload.subarray(FIXED, FIXED + idLength).toString('utf8'),
    data: payload.subarray(headerLength),
  };
}
