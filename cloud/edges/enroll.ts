// Enrolling a town's edge box: an admin issues a one-time enrollment token for an edge id; on the box,
// `gridsense edge enroll <url> <token>` trades it (once, before it expires) for the edge's own token.
// Both are stored as SHA-256 only. Enrolling again (a replaced box) rotates the edge's token, so the
// old box is cut off; revoking the edge cuts it off for good, at once.
import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import { GsError } from '../../contracts/errors.js';
import type { Clock } from '../../contracts/clock.js';
import type { Database } from '../db/schema.js';
import { iso } from '../http/time.js';
import { ensureEdgeFleet } from './desired.js';
import { hashToken, newEdgeToken } from './token.js';

export const ENROLLMENT_TOKEN_PREFIX = 'gsn_';
export const DEFAULT_ENROLLMENT_TTL_HOURS = 24;

interface Deps {
  db: Kysely<Database>;
  clock: Clock;
  newId: () => string;
}

export function newEnrollmentToken(): string {
  return `${ENROLLMENT_TOKEN_PREFIX}${randomBytes(24).toString('base64url')}`;
}

/** Throws a validation error unless `townId` is an imported town-level grid. */
export async function assertTown(db: Kysely<Database>, townId: string, path = '/townId'): Promise<void> {
  const town = await db.selectFrom('grids').select('id').where('id', '=', townId).where('level', '=', 'town').executeTakeFirst();
  if (!town) throw new GsError('GS_ERR_VALIDATION', `no town "${townId}"`, [{ path, message: 'must be the id of an imported town-level grid' }]);
}

export interface IssuedEnrollment {
  edgeId: string;
  token: string;
  expiresAt: string;
  /** True when this call registered the edge. */
  created: boolean;
}

/**
 * Issues a one-time token for `edgeId`, registering the edge (without a usable token yet) when it is
 * new. @throws GsError GS_ERR_EDGE_REVOKED (409) for a revoked edge.
 */
export async function issueEnrollmentToken(
  d: Deps,
  input: { edgeId: string; name?: string; townId?: string; ttlHours?: number },
  actor: string,
): Promise<IssuedEnrollment> {
  if (input.townId !== undefined) await assertTown(d.db, input.townId);
  const now = d.clock.now();
  const expiresAt = now + (input.ttlHours ?? DEFAULT_ENROLLMENT_TTL_HOURS) * 3_600_000;
  const token = newEnrollmentToken();
  const created = await d.db.transaction().execute(async (trx) => {
    const edge = await trx.selectFrom('edges').select(['id', 'revoked_at']).where('id', '=', input.edgeId).executeTakeFirst();
    if (edge && edge.revoked_at !== null) throw new GsError('GS_ERR_EDGE_REVOKED', `edge "${input.edgeId}" is revoked; enroll the box under a new id`);
    if (!edge) {
      // Its token is a random one nobody is shown: the edge exists (devices may be registered to it)
      // but nothing can act as it until it enrolls.
      await trx.insertInto('edges').values({ id: input.edgeId, name: input.name ?? input.edgeId, token_hash: hashToken(newEdgeToken()), created_at: now, revoked_at: null }).execute();
    } else if (input.name !== undefined) {
      await trx.updateTable('edges').set({ name: input.name }).where('id', '=', input.edgeId).execute();
    }
    await ensureEdgeFleet(trx, input.edgeId, now, input.townId ?? null);
    if (input.townId !== undefined) await trx.updateTable('edge_fleet').set({ town_id: input.townId }).where('edge_id', '=', input.edgeId).execute();
    await trx.insertInto('edge_enrollments').values({ id: d.newId(), edge_id: input.edgeId, token_hash: hashToken(token), created_at: now, created_by: actor, expires_at: expiresAt, used_at: null }).execute();
    return !edge;
  });
  return { edgeId: input.edgeId, token, expiresAt: iso(expiresAt), created };
}

/**
 * Trades an enrollment token for the edge's own token, once.
 * @throws GsError GS_ERR_ENROLL_TOKEN_INVALID (401), _USED / _EXPIRED (410), GS_ERR_EDGE_REVOKED (409).
 */
export async function enrollEdge(d: Deps, token: string): Promise<{ edgeId: string; edgeToken: string }> {
  const now = d.clock.now();
  const hash = hashToken(token);
  return d.db.transaction().execute(async (trx) => {
    const row = await trx.selectFrom('edge_enrollments').selectAll().where('token_hash', '=', hash).executeTakeFirst();
    if (!row) throw new GsError('GS_ERR_ENROLL_TOKEN_INVALID', 'this enrollment token is not known; ask for a new one (gridsense edges enroll-token <edgeId>)');
    if (row.used_at !== null) throw new GsError('GS_ERR_ENROLL_TOKEN_USED', `this enrollment token was used at ${iso(row.used_at)}; ask for a new one`);
    if (row.expires_at <= now) throw new GsError('GS_ERR_ENROLL_TOKEN_EXPIRED', `this enrollment token expired at ${iso(row.expires_at)}; ask for a new one`);
    const edge = await trx.selectFrom('edges').select(['id', 'revoked_at']).where('id', '=', row.edge_id).executeTakeFirstOrThrow();
    if (edge.revoked_at !== null) throw new GsError('GS_ERR_EDGE_REVOKED', `edge "${edge.id}" is revoked`);
    // Compare-and-set: of two boxes racing with one token, one wins.
    const used = await trx.updateTable('edge_enrollments').set({ used_at: now }).where('id', '=', row.id).where('used_at', 'is', null).executeTakeFirst();
    if (Number(used.numUpdatedRows) !== 1) throw new GsError('GS_ERR_ENROLL_TOKEN_USED', 'this enrollment token was just used; ask for a new one');
    const edgeToken = newEdgeToken();
    await trx.updateTable('edges').set({ token_hash: hashToken(edgeToken) }).where('id', '=', edge.id).execute();
    await ensureEdgeFleet(trx, edge.id, now);
    await trx.updateTable('edge_fleet').set({ enrolled_at: now }).where('edge_id', '=', edge.id).execute();
    return { edgeId: edge.id, edgeToken };
  });
}

/**
 * Revokes an edge: its token stops working on the next request. Its devices stay registered (move
 * them to another edge).
 * @throws GsError GS_ERR_EDGE_NOT_FOUND (404); GS_ERR_EDGE_REVOKED (409) when it already is.
 */
export async function revokeEdge(d: Deps, edgeId: string): Promise<number> {
  const now = d.clock.now();
  const r = await d.db.updateTable('edges').set({ revoked_at: now }).where('id', '=', edgeId).where('revoked_at', 'is', null).executeTakeFirst();
  if (Number(r.numUpdatedRows) === 1) return now;
  const edge = await d.db.selectFrom('edges').select('id').where('id', '=', edgeId).executeTakeFirst();
  throw edge ? new GsError('GS_ERR_EDGE_REVOKED', `edge "${edgeId}" is already revoked`) : new GsError('GS_ERR_EDGE_NOT_FOUND', `no edge "${edgeId}"`);
}
