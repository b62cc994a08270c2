/**
 * True when a write failed on a UNIQUE constraint (SQLite: SQLITE_CONSTRAINT_UNIQUE or _PRIMARYKEY;
 * PostgreSQL: SQLSTATE 23505). Callers use it to turn a lost race into a retry or a 409.
 */
export function isUniqueViolation(err: unknown): boolean {
  if (err === null || typeof err !== 'object') return false;
  const code = (err as { code?: unknown }).code;
  return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === '23505';
}
