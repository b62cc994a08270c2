import t from 'tap';
import { hashPassword, isPasswordHash, plainPasswordMatches, verifyPassword } from './password.js';

t.test('a hash verifies its password and nothing else', async (t) => {
  const hash = await hashPassword('s3cret-烟感');
  t.match(hash, /^scrypt\$16384\$8\$1\$/, 'the parameters travel with the hash');
  t.ok(isPasswordHash(hash));
  t.ok(await verifyPassword('s3cret-烟感', hash));
  t.ok(await verifyPassword(Buffer.from('s3cret-烟感'), hash), 'MQTT passwords arrive as bytes');
  t.notOk(await verifyPassword('s3cret', hash));
  t.not(await hashPassword('s3cret-烟感'), hash, 'a fresh salt every time');
});

t.test('malformed or hostile hashes never match and never run', async (t) => {
  const good = await hashPassword('pw', { N: 1024 });
  t.ok(await verifyPassword('pw', good), 'cheaper parameters still verify');
  for (const bad of ['', 'pw', 'scrypt$1000$8$1$AAAA$AAAA', 'scrypt$4194304$8$1$AAAA$AAAA', good.replace(/\$[^$]+$/, '$AAAA')]) {
    t.notOk(await verifyPassword('pw', bad), `refused: ${bad.slice(0, 30)}`);
  }
  t.notOk(isPasswordHash('scrypt$3$8$1$AAAA$AAAA'), 'N must be a power of two');
});

t.test('plain passwords compare whole', async (t) => {
  t.ok(plainPasswordMatches('abc', 'abc'));
  t.ok(plainPasswordMatches(Buffer.from('abc'), 'abc'));
  t.notOk(plainPasswordMatches('abc', 'abcd'));
  t.notOk(plainPasswordMatches('', 'abc'));
});
