// The CLI as a technician runs it: a child process against a real cloud on loopback.
import t from 'tap';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startCloud } from '../cloud/server.js';
import { verifyPassword } from '../edge/broker/password.js';

const BIN = fileURLToPath(new URL('../bin/gridsense.js', import.meta.url));
const ADMIN = 'gsa_cli-test-admin-token';

function run(args: string[], stdin?: string): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [BIN, ...args], { timeout: 60_000 }, (error, out, err) => resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, out, err }));
    if (stdin !== undefined) child.stdin!.end(stdin);
  });
}

t.test('api-keys create, list and revoke against a running cloud', async (t) => {
  const cloud = await startCloud({ port: 0, db: ':memory:', adminToken: ADMIN, logger: false });
  t.teardown(() => cloud.close());
  const target = ['--cloud', cloud.url, '--admin-token', ADMIN];
  const created = await run(['api-keys', 'create', 'night-desk', '--role', 'dispatcher', ...target]);
  t.equal(created.code, 0, created.err);
  const key = /^(gsk_\S+)$/m.exec(created.out)?.[1];
  t.ok(key, 'the key is printed once');
  const read = await fetch(`${cloud.url}/api/v1/events`, { headers: { authorization: `Bearer ${key}` } });
  t.equal(read.status, 200, 'and works');
  const list = await run(['api-keys', 'list', ...target]);
  t.match(list.out, /night-desk\tdispatcher\t-\tlive/);
  t.notOk(list.out.includes(key!), 'the list never shows a key');
  const id = list.out.split('\t')[0]!;
  t.equal((await run(['api-keys', 'revoke', id, ...target])).code, 0);
  t.equal((await fetch(`${cloud.url}/api/v1/events`, { headers: { authorization: `Bearer ${key}` } })).status, 401, 'revoked at once');
  const bad = await run(['api-keys', 'create', 'x', '--role', 'emperor', ...target]);
  t.equal(bad.code, 2, 'a refused request exits 2');
  t.match(bad.err, /GS_ERR_VALIDATION/);
});

t.test('mqtt-password prints a hash the broker accepts', async (t) => {
  const r = await run(['mqtt-password'], 's3cret\n');
  t.equal(r.code, 0, r.err);
  const hash = r.out.trim();
  t.match(hash, /^scrypt\$/);
  t.ok(await verifyPassword('s3cret', hash));
  t.notOk(await verifyPassword('s3cret\n', hash), 'the trailing newline of echo is not part of the password');
});
