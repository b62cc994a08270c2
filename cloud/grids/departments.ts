// Departments (职能部门): offices events are dispatched to — the county's (serving every town) or one
// town's — each for the event categories it handles. Retiring keeps the row for past events.
import type { Kysely, Selectable } from 'kysely';
import { GsError, type ErrorDetail } from '../../contracts/errors.js';
import { isUniqueViolation } from '../db/errors.js';
import type { Database, DepartmentsTable } from '../db/schema.js';
import { DEFAULT_PAGE_SIZE } from '../http/schemas.js';
import { iso, isoOrNull } from '../http/time.js';
import { afterCursor, nextCursorOf, scopedTown } from './roster-common.js';
import type { DepartmentCreateBody, DepartmentJson, DepartmentList, DepartmentListQuery, DepartmentPatchBody } from './roster-schemas.js';
import type { RosterDeps } from './workers.js';

export interface DepartmentDeps extends RosterDeps {
  /** The category codes of the event policy. */
  categories: readonly string[];
}

export function toDepartmentJson(r: Selectable<DepartmentsTable>): DepartmentJson {
  return {
    id: r.id,
    name: r.name,
    nameZh: r.name_zh,
    phone: r.phone,
    scope: r.scope,
    townId: r.town_id,
    categories: JSON.parse(r.categories) as string[],
    createdAt: iso(r.created_at),
    updatedAt: iso(r.updated_at),
    retiredAt: isoOrNull(r.retired_at),
  };
}

interface Shape {
  scope: 'county' | 'town';
  townId: string | null;
  categories: string[];
}

/** Scope and town agree, the town is a town, the categories are the policy's, and a town key stays in its town. */
async function checkShape(d: DepartmentDeps, s: Shape, keyTown: string | null): Promise<void> {
  const problems: ErrorDetail[] = [];
  if (s.scope === 'town' && s.townId === null) problems.push({ path: '/townId', message: 'is required for a town department' });
  if (s.scope === 'county' && s.townId !== null) problems.push({ path: '/townId', message: 'a county department serves every town: leave townId out' });
  if (s.scope === 'town' && s.townId !== null) {
    const town = await d.db.selectFrom('grids').select('id').where('id', '=', s.townId).where('level', '=', 'town').executeTakeFirst();
    if (!town) problems.push({ path: '/townId', message: `"${s.townId}" is not a town-level grid` });
  }
  s.categories.forEach((c, i) => {
    if (!d.categories.includes(c)) problems.push({ path: `/categories/${i}`, message: `unknown category "${c}"; known: ${d.categories.join(', ')}` });
  });
  if (problems.length > 0) throw new GsError('GS_ERR_VALIDATION', `department is not valid: ${problems.length} problem(s)`, problems);
  if (keyTown !== null && (s.scope !== 'town' || s.townId !== keyTown)) {
    throw new GsError('GS_ERR_AUTH_FORBIDDEN', `this key writes departments of town "${keyTown}" only`);
  }
}

/**
 * The department if the key may see it (its town's or the county's); else GS_ERR_DEPARTMENT_NOT_FOUND.
 * `write`: a town key may see the county's departments but not change them (403).
 */
export async function getDepartment(db: Kysely<Database>, id: string, keyTown: string | null, write = false): Promise<Selectable<DepartmentsTable>> {
  const r = await db.selectFrom('departments').selectAll().where('id', '=', id).executeTakeFirst();
  if (!r || (keyTown !== null && r.town_id !== null && r.town_id !== keyTown)) throw new GsError('GS_ERR_DEPARTMENT_NOT_FOUND', `no department "${id}"`);
  if (write && keyTown !== null && r.town_id !== keyTown) throw new GsError('GS_ERR_AUTH_FORBIDDEN', `department "${id}" serves the whole county; this key writes departments of town "${keyTown}" only`);
  return r;
}

async function writeCategories(db: Kysely<Database>, id: string, categories: readonly string[]): Promise<void> {
  await db.deleteFrom('department_categories').where('department_id', '=', id).execute();
  await db.insertInto('department_categories').values(categories.map((category) => ({ department_id: id, category }))).execute();
}

export async function createDepartment(d: DepartmentDeps, body: DepartmentCreateBody, keyTown: string | null): Promise<DepartmentJson> {
  const shape: Shape = { scope: body.scope, townId: body.townId ?? null, categories: body.categories };
  await checkShape(d, shape, keyTown);
  const now = d.now();
  const row: Selectable<DepartmentsTable> = {
    id: body.id ?? d.newId(),
    name: body.name.trim(),
    name_zh: body.nameZh?.trim() ?? null,
    phone: body.phone ?? null,
    scope: shape.scope,
    town_id: shape.townId,
    categories: JSON.stringify(shape.categories),
    created_at: now,
    updated_at: now,
    retired_at: null,
  };
  try {
    await d.db.transaction().execute(async (trx) => {
      await trx.insertInto('departments').values(row).execute();
      await writeCategories(trx, row.id, shape.categories);
    });
  } catch (err) {
    if (isUniqueViolation(err)) throw new GsError('GS_ERR_DEPARTMENT_EXISTS', `department "${row.id}" already exists`, [{ path: '/id', message: 'is taken' }]);
    throw err;
  }
  return toDepartmentJson(row);
}

export async function patchDepartment(d: DepartmentDeps, id: string, body: DepartmentPatchBody, keyTown: string | null): Promise<DepartmentJson> {
  const row = await getDepartment(d.db, id, keyTown, true);
  if (row.retired_at !== null) throw new GsError('GS_ERR_CONFLICT', `department "${id}" is retired`);
  const scope = body.scope ?? row.scope;
  // Turning a town department into the county's drops its town unless the body says otherwise.
  const townId = body.townId !== undefined ? body.townId : body.scope === 'county' ? null : row.town_id;
  const categories = body.categories ?? (JSON.parse(row.categories) as string[]);
  await checkShape(d, { scope, townId, categories }, keyTown);
  const next: Selectable<DepartmentsTable> = {
    ...row,
    name: body.name?.trim() ?? row.name,
    name_zh: body.nameZh !== undefined ? (body.nameZh?.trim() ?? null) : row.name_zh,
    phone: body.phone !== undefined ? body.phone : row.phone,
    scope,
    town_id: townId,
    categories: JSON.stringify(categories),
    updated_at: d.now(),
  };
  await d.db.transaction().execute(async (trx) => {
    const { id: _id, created_at: _c, retired_at: _r, ...set } = next;
    await trx.updateTable('departments').set(set).where('id', '=', id).execute();
    if (body.categories) await writeCategories(trx, id, categories);
  });
  return toDepartmentJson(next);
}

export async function retireDepartment(d: RosterDeps, id: string, keyTown: string | null): Promise<DepartmentJson> {
  const row = await getDepartment(d.db, id, keyTown, true);
  if (row.retired_at !== null) return toDepartmentJson(row);
  const now = d.now();
  await d.db.updateTable('departments').set({ retired_at: now, updated_at: now }).where('id', '=', id).execute();
  return toDepartmentJson({ ...row, retired_at: now, updated_at: now });
}

export async function listDepartments(db: Kysely<Database>, q: DepartmentListQuery, keyTown: string | null): Promise<DepartmentList> {
  const limit = q.limit ?? DEFAULT_PAGE_SIZE;
  const town = scopedTown(keyTown, q.townId);
  let query = db.selectFrom('departments').selectAll();
  if (town !== undefined) query = query.where((eb) => eb.or([eb('town_id', '=', town), eb('town_id', 'is', null)]));
  if (q.scope !== undefined) query = query.where('scope', '=', q.scope);
  if (q.category !== undefined) query = query.where('id', 'in', db.selectFrom('department_categories').select('department_id').where('category', '=', q.category));
  if (!q.includeRetired) query = query.where('retired_at', 'is', null);
  const after = afterCursor(q.cursor);
  if (after !== undefined) query = query.where('id', '>', after);
  const rows = await query.orderBy('id').limit(limit + 1).execute();
  return { items: rows.slice(0, limit).map(toDepartmentJson), nextCursor: nextCursorOf(rows, limit) };
}
