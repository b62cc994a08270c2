import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export const EDGE_TOKEN_PREFIX = 'gse_';

/** 32 random bytes, base64url, with a prefix that says what it is when it turns up in a log or a leak scan. */
export function newEdgeToken(): string {
  return `${EDGE_TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Compares in constant time whatever the lengths (both sides hashed first). */
export function sameSecret(a: string, b: string): boolean {
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}

/** The token of an `Authorization: Bearer <token>` header, or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m?.[1];
}
