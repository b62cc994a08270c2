/**
 * True when a write failed on a UNIQUE constraint (SQLite: SQLITE_CONSTRAINT_UNIQUE or _PRIMARYKEY;
 * PostgreSQL: SQLSTATE 23505). Callers use it to turn a lost race into a retry or a 409.
 */
export function isUniqueViolation(err: unknown): boolean {
  const code = codeOf(err);
  return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === '23505';
}

/**
 * True when a transaction lost a race and running it again from the start is the cure: a unique
 * violation (someone else inserted the row first), and on PostgreSQL a deadlock (40P01) or a
 * serialization failure (40001). PostgreSQL aborts the whole transaction on any of them, so the
 * retry must be of the whole transaction, never of the one statement.
 */
export function isRetryableConflict(err: unknown): boolean {
  const code = codeOf(err);
  return isUniqueViolation(err) || code === '40P01' || code === '40001';
}

function codeOf(err: unknown): unknown {
  if (err === null || typeof err !== 'object') return undefined;
  return (err as { code?: unknown }).code;
}
