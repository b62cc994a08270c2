import type { Kysely, Selectable } from 'kysely';
import type { Clock } from '../../contracts/clock.js';
import { GsError } from '../../contracts/errors.js';
import { isUniqueViolation } from '../db/errors.js';
import type { Database, EdgesTable } from '../db/schema.js';
import { iso, isoOrNull } from '../http/time.js';
import type { EdgeJson } from './schemas.js';
import { hashToken, newEdgeToken } from './token.js';

export interface CreatedEdge {
  id: string;
  /** Shown once: only its sha256 is stored. */
  token: string;
  name: string;
  createdAt: number;
}

/**
 * Registers a town edge and makes its token.
 * @throws GsError GS_ERR_EDGE_EXISTS (409) when the id is taken.
 */
export async function createEdge(db: Kysely<Database>, input: { id: string; name: string }, clock: Clock): Promise<CreatedEdge> {
  const token = newEdgeToken();
  const createdAt = clock.now();
  try {
    await db.insertInto('edges').values({ id: input.id, name: input.name, token_hash: hashToken(token), created_at: createdAt, revoked_at: null }).execute();
  } catch (err) {
    if (isUniqueViolation(err)) throw new GsError('GS_ERR_EDGE_EXISTS', `edge "${input.id}" already exists`, [{ path: '/id', message: 'is taken' }]);
    throw err;
  }
  return { id: input.id, token, name: input.name, createdAt };
}

export function toEdgeJson(r: Selectable<EdgesTable>): EdgeJson {
  return { id: r.id, name: r.name, createdAt: iso(r.created_at), revokedAt: isoOrNull(r.revoked_at) };
}

export async function listEdges(db: Kysely<Database>): Promise<EdgeJson[]> {
  const rows = await db.selectFrom('edges').selectAll().orderBy('id').execute();
  return rows.map(toEdgeJson);
}
