// The `firmware:` section of edge.yaml. Present = this edge runs firmware campaigns (its own devices and
// itself); absent = it never asks the cloud for jobs. Trusted keys are read and checked at load, so a
// missing or non-Ed25519 key file is a config error with its path, not a failed campaign later.
import { createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import Type from 'typebox';
import { Duration, durationMs } from '../../contracts/duration.js';
import type { ErrorDetail } from '../../contracts/errors.js';
import { keyIdOf } from '../../contracts/firmware.js';
import { DEFAULT_CHUNK_SIZE, MAX_CHUNK_SIZE, MIN_CHUNK_SIZE } from '../../contracts/firmware-ota.js';

export const FirmwareSection = Type.Object(
  {
    trustedKeys: Type.Array(Type.String({ minLength: 1, description: 'Ed25519 public key file (PEM) whose signatures this edge accepts' }), { minItems: 1 }),
    maxConcurrent: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, description: 'device updates under way at once (default 4)' })),
    chunkSize: Type.Optional(Type.Integer({ minimum: MIN_CHUNK_SIZE, maximum: MAX_CHUNK_SIZE, description: `largest chunk a device may ask for, bytes (default ${DEFAULT_CHUNK_SIZE})` })),
    deviceTimeout: Type.Optional(Duration),
  },
  { additionalProperties: false },
);

export interface TrustedKey {
  file: string;
  pem: string;
  keyId: string;
}

export interface FirmwareSettings {
  trustedKeys: TrustedKey[];
  maxConcurrent: number;
  chunkSize: number;
  /** A device silent this long during its update fails the job (GS_ERR_FIRMWARE_TIMEOUT). */
  deviceTimeoutMs: number;
}

export const DEFAULT_MAX_CONCURRENT = 4;
/** Long enough for a device that reboots into the new image on a slow flash. */
export const DEFAULT_DEVICE_TIMEOUT_MS = 30 * 60_000;

/** The resolved section, or undefined when absent; problems go to `add` (the schema reports shapes). */
export function checkFirmwareSection(section: unknown, baseDir: string, add: (d: ErrorDetail) => void): FirmwareSettings | undefined {
  if (typeof section !== 'object' || section === null || Array.isArray(section)) return undefined;
  const s = section as Record<string, unknown>;
  const trustedKeys: TrustedKey[] = [];
  if (Array.isArray(s.trustedKeys)) {
    s.trustedKeys.forEach((ref, i) => {
      if (typeof ref !== 'string') return;
      const file = resolve(baseDir, ref);
      const path = `/firmware/trustedKeys/${i}`;
      let pem: string;
      try {
        pem = readFileSync(file, 'utf8');
      } catch (err) {
        add({ path, message: `cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})` });
        return;
      }
      try {
        const key = createPublicKey(pem);
        if (key.asymmetricKeyType !== 'ed25519') {
          add({ path, message: `${file} is a ${key.asymmetricKeyType ?? 'unknown'} key; firmware is signed with Ed25519` });
          return;
        }
        trustedKeys.push({ file, pem: key.export({ type: 'spki', format: 'pem' }).toString(), keyId: keyIdOf(key) });
      } catch {
        add({ path, message: `${file} is not a PEM public key` });
      }
    });
  }
  let deviceTimeoutMs = DEFAULT_DEVICE_TIMEOUT_MS;
  if (s.deviceTimeout !== undefined) {
    try {
      deviceTimeoutMs = durationMs(s.deviceTimeout as Duration);
      if (deviceTimeoutMs < 1000) add({ path: '/firmware/deviceTimeout', message: 'must be at least 1s' });
    } catch {
      // The schema reports the malformed duration.
    }
  }
  return {
    trustedKeys,
    maxConcurrent: typeof s.maxConcurrent === 'number' ? s.maxConcurrent : DEFAULT_MAX_CONCURRENT,
    chunkSize: typeof s.chunkSize === 'number' ? s.chunkSize : DEFAULT_CHUNK_SIZE,
    deviceTimeoutMs,
  };
}
