// Trusted signing keys: an admin registers Ed25519 public keys; an artifact is accepted only when a
// registered, unrevoked key's signature verifies. Revoking a key stops new uploads and campaigns of
// artifacts it signed; what is on devices already stays.
import { createPublicKey, type KeyObject } from 'node:crypto';
import { GsError } from '../../contracts/errors.js';
import { keyIdOf } from '../../contracts/firmware.js';
import { isUniqueViolation } from '../db/errors.js';
import { isoOrNull, iso } from '../http/time.js';
import type { FirmwareDeps } from './deps.js';
import type { FirmwareKeysTable, FwDb } from './tables.js';

export interface KeyJson {
  keyId: string;
  name: string;
  publicKey: string;
  createdAt: string;
  createdBy: string;
  revokedAt: string | null;
}

export function keyJson(r: FirmwareKeysTable): KeyJson {
  return { keyId: r.id, name: r.name, publicKey: r.public_key, createdAt: iso(r.created_at), createdBy: r.created_by, revokedAt: isoOrNull(r.revoked_at) };
}

/** The key in a PEM, when it is an Ed25519 public key; a 400 otherwise. */
export function parsePublicKey(pem: string): KeyObject {
  if (/PRIVATE KEY/.test(pem)) throw new GsError('GS_ERR_FIRMWARE_KEY_INVALID', 'this is a private key: register its public half (keep the private key off the server)', [{ path: '/publicKey', message: 'a PRIVATE KEY block' }]);
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch (err) {
    throw new GsError('GS_ERR_FIRMWARE_KEY_INVALID', `the public key cannot be read: ${(err as Error).message}`, [{ path: '/publicKey', message: 'expected -----BEGIN PUBLIC KEY----- (SPKI PEM)' }]);
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new GsError('GS_ERR_FIRMWARE_KEY_INVALID', `an ${key.asymmetricKeyType ?? 'unknown'} key; firmware is signed with Ed25519`, [{ path: '/publicKey', message: 'not Ed25519' }]);
  return key;
}

export async function addKey(d: FirmwareDeps, body: { name: string; publicKey: string }, actor: string): Promise<KeyJson> {
  const key = parsePublicKey(body.publicKey);
  const id = keyIdOf(key);
  const row: FirmwareKeysTable = { id, name: body.name, public_key: key.export({ type: 'spki', format: 'pem' }).toString(), created_at: d.clock.now(), created_by: actor, revoked_at: null };
  try {
    await d.db.insertInto('firmware_keys').values(row).execute();
  } catch (err) {
    if (isUniqueViolation(err)) throw new GsError('GS_ERR_FIRMWARE_KEY_EXISTS', `key ${id} is already registered (a revoked key stays revoked)`);
    throw err;
  }
  return keyJson(row);
}

export async function listKeys(db: FwDb): Promise<KeyJson[]> {
  return (await db.selectFrom('firmware_keys').selectAll().orderBy('created_at').orderBy('id').execute()).map(keyJson);
}

export async function getKey(db: FwDb, id: string): Promise<FirmwareKeysTable> {
  const r = await db.selectFrom('firmware_keys').selectAll().where('id', '=', id).executeTakeFirst();
  if (!r) throw new GsError('GS_ERR_FIRMWARE_KEY_NOT_FOUND', `no signing key "${id}"`);
  return r;
}

/** Revokes a key (again: no change). */
export async function revokeKey(d: FirmwareDeps, id: string): Promise<KeyJson> {
  await getKey(d.db, id);
  await d.db.updateTable('firmware_keys').set({ revoked_at: d.clock.now() }).where('id', '=', id).where('revoked_at', 'is', null).execute();
  return keyJson(await getKey(d.db, id));
}

/** The registered keys that are not revoked. */
export async function trustedKeys(db: FwDb): Promise<Array<{ id: string; pem: string }>> {
  const rows = await db.selectFrom('firmware_keys').select(['id', 'public_key']).where('revoked_at', 'is', null).execute();
  return rows.map((r) => ({ id: r.id, pem: r.public_key }));
}
