// Admin passwords for the embedded Node-RED editor: bcrypt, because that is what Node-RED's adminAuth
// checks. Hashed with the library Node-RED itself verifies with, in its order of preference: the native
// @node-rs/bcrypt when it is installed, bcryptjs (pure JavaScript, always there) otherwise.
import { createRequire } from 'node:module';

interface Bcrypt {
  hash(password: string, cost: number): Promise<string>;
  compare(password: string, hash: string): Promise<boolean>;
}

/** Node-RED's own `node-red admin hash-pw` uses 8; 10 costs ~60 ms per login on an edge box. */
export const BCRYPT_COST = 10;

export function bcryptLibrary(): { name: '@node-rs/bcrypt' | 'bcryptjs'; lib: Bcrypt } {
  const require = createRequire(import.meta.url);
  try {
    return { name: '@node-rs/bcrypt', lib: require('@node-rs/bcrypt') as Bcrypt };
  } catch {
    return { name: 'bcryptjs', lib: require('bcryptjs') as Bcrypt };
  }
}

export function hashAdminPassword(password: string, cost = BCRYPT_COST): Promise<string> {
  return bcryptLibrary().lib.hash(password, cost);
}
