// Firmware artifacts: the image is checked (its SHA-256 against what the uploader says, the Ed25519
// signature against a registered, unrevoked key) and stored in the database in 256 KiB rows, so any
// cloud instance on one PostgreSQL serves any byte range of it without a shared disk.
import { GsError } from '../../contracts/errors.js';
import { sha256Hex, verifyManifest, type FirmwareArtifactRef, type FirmwareManifest } from '../../contracts/firmware.js';
import { isUniqueViolation } from '../db/errors.js';
import { iso } from '../http/time.js';
import type { FirmwareDeps } from './deps.js';
import { trustedKeys } from './keys.js';
import type { FirmwareArtifactsTable, FwDb } from './tables.js';

export const CHUNK_SIZE = 256 * 1024;
/** Chunks read per query while streaming a download (1 MiB). */
const READ_BATCH = 4;

export interface UploadMeta {
  version: string;
  profiles: string[];
  sha256: string;
  signature?: string | undefined;
  keyId?: string | undefined;
}

export interface ArtifactJson {
  id: string;
  version: string;
  profiles: string[];
  sha256: string;
  size: number;
  signature: string;
  keyId: string;
  createdAt: string;
  createdBy: string;
  downloadPath: string;
}

export const downloadPath = (id: string) => `/api/v1/edges/firmware/artifacts/${encodeURIComponent(id)}`;

export function manifestOf(r: FirmwareArtifactsTable): FirmwareManifest {
  return { version: r.version, sha256: r.sha256, size: Number(r.size), profiles: JSON.parse(r.profiles) as string[] };
}

export function artifactJson(r: FirmwareArtifactsTable): ArtifactJson {
  const m = manifestOf(r);
  return { id: r.id, ...m, signature: r.signature, keyId: r.key_id, createdAt: iso(r.created_at), createdBy: r.created_by, downloadPath: downloadPath(r.id) };
}

export function artifactRef(r: FirmwareArtifactsTable): FirmwareArtifactRef {
  return { id: r.id, manifest: manifestOf(r), signature: r.signature, keyId: r.key_id, downloadPath: downloadPath(r.id) };
}

/** The key that signed `manifest`, among the trusted ones (only `keyId` when given); a 400 when none did. */
export async function signingKey(db: FwDb, manifest: FirmwareManifest, signature: string | undefined, keyId?: string): Promise<string> {
  if (!signature) throw new GsError('GS_ERR_FIRMWARE_SIGNATURE', 'the image is unsigned: give its signature (gridsense firmware sign)', [{ path: '/signature', message: 'missing' }]);
  const trusted = await trustedKeys(db);
  const candidates = keyId === undefined ? trusted : trusted.filter((k) => k.id === keyId);
  if (keyId !== undefined && candidates.length === 0) {
    throw new GsError('GS_ERR_FIRMWARE_SIGNATURE', `key ${keyId} is not a registered, unrevoked signing key`, [{ path: '/keyId', message: 'not trusted' }]);
  }
  const signer = candidates.find((k) => verifyManifest(manifest, signature, [k.pem]));
  if (!signer) throw new GsError('GS_ERR_FIRMWARE_SIGNATURE', `the signature does not verify for version ${manifest.version}, ${manifest.size} bytes, profiles ${manifest.profiles.join(', ')} with ${keyId ? `key ${keyId}` : 'any trusted key'}`, [{ path: '/signature', message: 'does not verify' }]);
  return signer.id;
}

export async function storeArtifact(d: FirmwareDeps, bytes: Buffer, meta: UploadMeta, actor: string): Promise<ArtifactJson> {
  if (bytes.length === 0) throw new GsError('GS_ERR_VALIDATION', 'the image is empty', [{ path: '/body', message: 'send the image bytes as application/octet-stream' }]);
  const sha256 = sha256Hex(bytes);
  if (sha256 !== meta.sha256.toLowerCase()) throw new GsError('GS_ERR_FIRMWARE_CHECKSUM', `the image received has SHA-256 ${sha256}, not ${meta.sha256}: it was damaged or is another file`, [{ path: '/sha256', message: `received ${sha256}` }]);
  const profiles = [...new Set(meta.profiles)].sort();
  const manifest: FirmwareManifest = { version: meta.version, sha256, size: bytes.length, profiles };
  const keyId = await signingKey(d.db, manifest, meta.signature, meta.keyId);
  const row: FirmwareArtifactsTable = { id: d.newId(), version: meta.version, profiles: JSON.stringify(profiles), sha256, size: bytes.length, signature: meta.signature!, key_id: keyId, chunk_size: CHUNK_SIZE, created_at: d.clock.now(), created_by: actor };
  try {
    await d.db.transaction().execute(async (trx) => {
      const taken = await trx.selectFrom('firmware_artifact_profiles').select(['profile', 'artifact_id']).where('version', '=', meta.version).where('profile', 'in', profiles).execute();
      if (taken.length > 0) throw alreadyThere(meta.version, taken);
      await trx.insertInto('firmware_artifacts').values(row).execute();
      await trx.insertInto('firmware_artifact_profiles').values(profiles.map((p) => ({ profile: p, version: meta.version, artifact_id: row.id }))).execute();
      for (let i = 0; i * CHUNK_SIZE < bytes.length; i++) {
        await trx.insertInto('firmware_chunks').values({ artifact_id: row.id, idx: i, data: bytes.subarray(i * CHUNK_SIZE, (i + 1) * CHUNK_SIZE) }).execute();
      }
    });
  } catch (err) {
    if (isUniqueViolation(err)) throw alreadyThere(meta.version, []);
    throw err;
  }
  return artifactJson(row);
}

function alreadyThere(version: string, taken: Array<{ profile: string; artifact_id: string }>): GsError {
  return new GsError(
    'GS_ERR_FIRMWARE_ARTIFACT_EXISTS',
    `version ${version} was already uploaded for ${taken.length > 0 ? taken.map((t) => t.profile).join(', ') : 'one of these profiles'}; give the new build a new version`,
    taken.map((t) => ({ path: `/profiles/${t.profile}`, message: `artifact ${t.artifact_id}` })),
  );
}

export async function getArtifact(db: FwDb, id: string): Promise<FirmwareArtifactsTable> {
  const r = await db.selectFrom('firmware_artifacts').selectAll().where('id', '=', id).executeTakeFirst();
  if (!r) throw new GsError('GS_ERR_FIRMWARE_ARTIFACT_NOT_FOUND', `no firmware artifact "${id}"`);
  return r;
}

export async function listArtifacts(db: FwDb, profile?: string): Promise<ArtifactJson[]> {
  let q = db.selectFrom('firmware_artifacts').selectAll();
  if (profile !== undefined) q = q.where('id', 'in', db.selectFrom('firmware_artifact_profiles').select('artifact_id').where('profile', '=', profile));
  return (await q.orderBy('id', 'desc').limit(500).execute()).map(artifactJson);
}

/** Bytes [start, end] (inclusive) of the artifact, a few chunks per query. */
export async function* readBytes(db: FwDb, a: FirmwareArtifactsTable, start: number, end: number): AsyncGenerator<Buffer> {
  const cs = a.chunk_size;
  const last = Math.floor(end / cs);
  for (let first = Math.floor(start / cs); first <= last; first += READ_BATCH) {
    const rows = await db
      .selectFrom('firmware_chunks')
      .select(['idx', 'data'])
      .where('artifact_id', '=', a.id)
      .where('idx', '>=', first)
      .where('idx', '<=', Math.min(last, first + READ_BATCH - 1))
      .orderBy('idx')
      .execute();
    for (const r of rows) {
      const at = r.idx * cs;
      const data = Buffer.from(r.data);
      yield data.subarray(Math.max(0, start - at), Math.min(data.length, end - at + 1));
    }
  }
}
