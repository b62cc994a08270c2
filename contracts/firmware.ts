import { createHash, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import Type from 'typebox';

/**
 * Firmware between cloud and edge: what an edge fetches to run a campaign's jobs for its devices (or for
 * itself), and what it reports back. The device-facing side (MQTT topics, chunks) is in firmware-specs/.
 *
 * Trust: an image is accepted only if its SHA-256 matches and an Ed25519 signature by a trusted key
 * verifies over `signingPayload(manifest)`. The signature covers the digest, the size, the version and the
 * target profiles, so a signed image cannot be replayed as another version or onto another model.
 */

/** Per-device (or per-edge) job states; `cancelled` when its campaign is aborted before it finished. */
export const FIRMWARE_JOB_STATES = ['pending', 'downloading', 'verifying', 'installing', 'succeeded', 'failed', 'cancelled'] as const;
export type FirmwareJobState = (typeof FIRMWARE_JOB_STATES)[number];
export const FIRMWARE_TERMINAL_STATES: readonly FirmwareJobState[] = ['succeeded', 'failed', 'cancelled'];

export const Sha256Hex = Type.String({ pattern: '^[0-9a-f]{64}$', description: 'SHA-256 of the image, lowercase hex' });

/** A version string: printable, no whitespace or control characters. */
export const VERSION_PATTERN = '^[^\\s\\x00-\\x1f\\x7f]+$';
/** A profile id in a manifest: no comma, whitespace or control characters. */
export const PROFILE_PATTERN = '^[^,\\s\\x00-\\x1f\\x7f]+$';

/** What is signed. */
export const FirmwareManifest = Type.Object(
  {
    // No control characters (and no comma in a profile id): the signed payload is newline- and
    // comma-separated, so those would let two different manifests share one signature.
    version: Type.String({ minLength: 1, maxLength: 64, pattern: VERSION_PATTERN }),
    sha256: Sha256Hex,
    size: Type.Integer({ minimum: 1 }),
    /** Device profile ids the image is for; `gridsense-edge` for the edge agent itself. */
    profiles: Type.Array(Type.String({ minLength: 1, maxLength: 128, pattern: PROFILE_PATTERN }), { minItems: 1, maxItems: 50 }),
  },
  { additionalProperties: false },
);
export type FirmwareManifest = Type.Static<typeof FirmwareManifest>;

/** The target profile for updating the edge agent itself. */
export const EDGE_AGENT_PROFILE = 'gridsense-edge';

export const FirmwareArtifactRef = Type.Object(
  {
    id: Type.String({ maxLength: 64 }),
    manifest: FirmwareManifest,
    /** Ed25519 signature over signingPayload(manifest), base64. */
    signature: Type.String({ maxLength: 200 }),
    /** Which key signed it: keyIdOf(public key). */
    keyId: Type.String({ maxLength: 64 }),
    /** Where the edge downloads the bytes (edge token; supports Range), relative to the cloud's base URL. */
    downloadPath: Type.String({ maxLength: 512 }),
  },
  { additionalProperties: false },
);
export type FirmwareArtifactRef = Type.Static<typeof FirmwareArtifactRef>;

/** A job the edge runs: one device (or the edge itself) to one artifact. */
export const FirmwareJob = Type.Object(
  {
    jobId: Type.String({ maxLength: 64 }),
    campaignId: Type.String({ maxLength: 64 }),
    /** A device on this edge, or the edge agent itself. */
    target: Type.Union([
      Type.Object({ kind: Type.Literal('device'), deviceId: Type.String({ maxLength: 128 }) }, { additionalProperties: false }),
      Type.Object({ kind: Type.Literal('edge') }, { additionalProperties: false }),
    ]),
    artifact: FirmwareArtifactRef,
    state: Type.Enum(FIRMWARE_JOB_STATES),
    /** Not before this time (ms since the epoch): the wave's start plus the job's random jitter. */
    notBefore: Type.Integer({ minimum: 0 }),
    /** Only inside this daily window (local time of the edge, HH:MM, end may wrap past midnight). */
    window: Type.Optional(Type.Object({ start: Type.String({ pattern: '^\\d{2}:\\d{2}$' }), end: Type.String({ pattern: '^\\d{2}:\\d{2}$' }) }, { additionalProperties: false })),
    /** Set when the campaign is paused: the edge starts nothing new for it (jobs under way may finish). */
    paused: Type.Boolean(),
  },
  { additionalProperties: false },
);
export type FirmwareJob = Type.Static<typeof FirmwareJob>;

export const FirmwareJobList = Type.Object({ jobs: Type.Array(FirmwareJob, { maxItems: 10_000 }) }, { additionalProperties: false });
export type FirmwareJobList = Type.Static<typeof FirmwareJobList>;

/** The edge reports every state change of a job. Reports are idempotent: the same state twice is one. */
export const FirmwareJobReport = Type.Object(
  {
    state: Type.Enum(FIRMWARE_JOB_STATES),
    at: Type.Integer({ minimum: 0 }),
    /** Bytes the device holds so far, while downloading. */
    bytes: Type.Optional(Type.Integer({ minimum: 0 })),
    /** Why, when failed: a stable code (e.g. GS_ERR_FIRMWARE_CHECKSUM) and words. */
    reason: Type.Optional(Type.Object({ code: Type.String({ maxLength: 64 }), message: Type.String({ maxLength: 1000 }) }, { additionalProperties: false })),
    /** The version the target runs after the job (on succeeded, and on failed when it rolled back). */
    runningVersion: Type.Optional(Type.String({ maxLength: 64 })),
  },
  { additionalProperties: false },
);
export type FirmwareJobReport = Type.Static<typeof FirmwareJobReport>;

/** Legal job state changes; anything else is refused (409). A job may fail from any non-terminal state. */
export function canMoveJob(from: FirmwareJobState, to: FirmwareJobState): boolean {
  if (FIRMWARE_TERMINAL_STATES.includes(from)) return false;
  if (to === 'failed' || to === 'cancelled') return true;
  const order: FirmwareJobState[] = ['pending', 'downloading', 'verifying', 'installing', 'succeeded'];
  // A device that drops off mid-download resumes: downloading → downloading is a progress report.
  return order.indexOf(to) >= order.indexOf(from);
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The exact bytes an Ed25519 signature covers; throws for a manifest whose fields would make it ambiguous. */
export function signingPayload(m: FirmwareManifest): Buffer {
  const version = new RegExp(VERSION_PATTERN);
  const profile = new RegExp(PROFILE_PATTERN);
  if (!version.test(m.version) || !m.profiles.every((p) => profile.test(p)) || !/^[0-9a-f]{64}$/.test(m.sha256) || !Number.isSafeInteger(m.size)) {
    throw new Error('manifest fields contain separators or are malformed: it cannot be signed unambiguously');
  }
  const profiles = [...m.profiles].sort().join(',');
  return Buffer.from(`gridsense-firmware/v1\n${m.version}\n${m.sha256}\n${m.size}\n${profiles}\n`, 'utf8');
}

/** A key's id: the first 16 hex digits of the SHA-256 of its raw 32-byte Ed25519 public key. */
export function keyIdOf(publicKey: KeyObject | string): string {
  const key = typeof publicKey === 'string' ? createPublicKey(publicKey) : publicKey;
  // Another key type's DER does not end in the raw key: its "id" would be meaningless.
  if (key.asymmetricKeyType !== 'ed25519') throw new Error(`not an Ed25519 key (${key.asymmetricKeyType ?? 'unknown type'})`);
  const der = key.export({ type: 'spki', format: 'der' });
  return sha256Hex(der.subarray(der.length - 32)).slice(0, 16);
}

export function signManifest(m: FirmwareManifest, privateKeyPem: string): string {
  return sign(null, signingPayload(m), createPrivateKey(privateKeyPem)).toString('base64');
}

/** True only if `signature` is a valid Ed25519 signature of the manifest by one of `trustedPublicKeysPem`. */
export function verifyManifest(m: FirmwareManifest, signature: string, trustedPublicKeysPem: readonly string[]): boolean {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(signature)) return false;
  const sig = Buffer.from(signature, 'base64');
  if (sig.length !== 64) return false;
  let payload: Buffer;
  try {
    payload = signingPayload(m);
  } catch {
    return false;
  }
  return trustedPublicKeysPem.some((pem) => {
    try {
      const key = createPublicKey(pem);
      return key.asymmetricKeyType === 'ed25519' && verify(null, payload, key, sig);
    } catch {
      return false;
    }
  });
}
