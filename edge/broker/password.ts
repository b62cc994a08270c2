// Device passwords for the embedded broker. edge.yaml should hold `passwordHash`, not the password: a
// copied config or a backup then does not hand out the credentials of every sensor on the street.
import { createHash, randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/** `scrypt$<N>$<r>$<p>$<salt, base64>$<key, base64>`: the parameters travel with the hash, so they can grow later. */
const FORMAT = /^scrypt\$(\d+)\$(\d+)\$(\d+)\$([A-Za-z0-9+/]+={0,2})\$([A-Za-z0-9+/]+={0,2})$/;
export const PASSWORD_HASH_PATTERN = FORMAT.source;

/** OWASP's scrypt floor (N=2^14, r=8, p=1): ~16 MiB and tens of ms per check on an edge box. */
const DEFAULTS = { N: 16384, r: 8, p: 1 };
const KEY_BYTES = 32;

function derive(password: string | Buffer, salt: Buffer, o: ScryptOptions & { N: number; r: number }): Promise<Buffer> {
  // scrypt refuses N·r·128 bytes above maxmem (32 MiB by default); allow what the stored parameters need.
  const maxmem = Math.max(32 * 1024 * 1024, 256 * o.N * o.r);
  return new Promise((resolve, reject) => {
    scrypt(password, salt, KEY_BYTES, { ...o, maxmem }, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

export async function hashPassword(password: string, params: Partial<typeof DEFAULTS> = {}): Promise<string> {
  const o = { ...DEFAULTS, ...params };
  const salt = randomBytes(16);
  const key = await derive(password, salt, o);
  return `scrypt$${o.N}$${o.r}$${o.p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

export function isPasswordHash(s: string): boolean {
  const m = FORMAT.exec(s);
  if (!m) return false;
  const [N, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
  // A power of two, and small enough that a hostile or mistyped config cannot make one check eat the box.
  return N >= 2 && N <= 2 ** 20 && (N & (N - 1)) === 0 && r >= 1 && r <= 32 && p >= 1 && p <= 16;
}

/** Checks a password against a stored hash in constant time; a malformed hash never matches. */
export async function verifyPassword(password: string | Buffer, stored: string): Promise<boolean> {
  if (!isPasswordHash(stored)) return false;
  const m = FORMAT.exec(stored)!;
  const expected = Buffer.from(m[5]!, 'base64');
  if (expected.length !== KEY_BYTES) return false;
  const key = await derive(password, Buffer.from(m[4]!, 'base64'), { N: Number(m[1]), r: Number(m[2]), p: Number(m[3]) });
  return timingSafeEqual(key, expected);
}

/** Constant-time equality of a presented password and a plain one from the config. */
export function plainPasswordMatches(presented: string | Buffer, configured: string): boolean {
  // Digests have equal length, so the comparison does not leak the configured password's length.
  const a = createHash('sha256').update(presented).digest();
  const b = createHash('sha256').update(configured).digest();
  return timingSafeEqual(a, b);
}
