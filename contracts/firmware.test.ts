// The firmware trust contract both sides run: Ed25519 over the manifest, key ids, the job state table.
import t from 'tap';
import { generateKeyPairSync } from 'node:crypto';
import Value from 'typebox/value';
import {
  canMoveJob,
  FIRMWARE_JOB_STATES,
  FIRMWARE_TERMINAL_STATES,
  FirmwareManifest,
  keyIdOf,
  sha256Hex,
  signingPayload,
  signManifest,
  verifyManifest,
  type FirmwareJobState,
} from './firmware.js';

const pair = () => {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  return { pub: publicKey.export({ type: 'spki', format: 'pem' }).toString(), priv: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), publicKey };
};
const image = Buffer.from('firmware image bytes '.repeat(100));
const manifest: FirmwareManifest = { version: '2.1.0', sha256: sha256Hex(image), size: image.length, profiles: ['vendor/model-b', 'vendor/model-a'] };

t.test('a signature by a trusted key verifies; the profile order does not matter', async (t) => {
  const k = pair();
  const sig = signManifest(manifest, k.priv);
  t.equal(Buffer.from(sig, 'base64').length, 64);
  t.ok(verifyManifest(manifest, sig, [k.pub]));
  t.ok(verifyManifest({ ...manifest, profiles: ['vendor/model-a', 'vendor/model-b'] }, sig, [k.pub]), 'profiles are sorted before signing');
  t.ok(verifyManifest(manifest, sig, [pair().pub, k.pub]), 'any one of several trusted keys');
  t.match(signingPayload(manifest).toString(), /^gridsense-firmware\/v1\n2\.1\.0\n[0-9a-f]{64}\n2100\nvendor\/model-a,vendor\/model-b\n$/);
});

t.test('a tampered manifest does not verify', async (t) => {
  const k = pair();
  const sig = signManifest(manifest, k.priv);
  t.notOk(verifyManifest({ ...manifest, version: '2.1.1' }, sig, [k.pub]), 'another version');
  t.notOk(verifyManifest({ ...manifest, size: manifest.size + 1 }, sig, [k.pub]), 'another size');
  t.notOk(verifyManifest({ ...manifest, sha256: sha256Hex(Buffer.from('evil')) }, sig, [k.pub]), 'another image');
  t.notOk(verifyManifest({ ...manifest, profiles: ['vendor/model-a'] }, sig, [k.pub]), 'fewer profiles');
  t.notOk(verifyManifest({ ...manifest, profiles: [...manifest.profiles, 'vendor/model-c'] }, sig, [k.pub]), 'another model');
  const flipped = Buffer.from(sig, 'base64');
  flipped[10] = flipped[10]! ^ 1;
  t.notOk(verifyManifest(manifest, flipped.toString('base64'), [k.pub]), 'a flipped signature bit');
});

t.test('a wrong key, no key, or a key of another type does not verify', async (t) => {
  const k = pair();
  const sig = signManifest(manifest, k.priv);
  t.notOk(verifyManifest(manifest, sig, [pair().pub]));
  t.notOk(verifyManifest(manifest, sig, []));
  t.notOk(verifyManifest(manifest, sig, ['not a pem']), 'an unreadable key is no key');
  const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
  t.notOk(verifyManifest(manifest, sig, [rsa]));
  t.throws(() => keyIdOf(rsa), /not an Ed25519 key/);
});

t.test('bad base64 or a signature of the wrong length is refused, not thrown', async (t) => {
  const k = pair();
  const sig = signManifest(manifest, k.priv);
  for (const bad of ['', 'not base64!', `${sig}AAAA`, sig.slice(0, 40), '====', `${sig.slice(0, -2)}*=`]) t.notOk(verifyManifest(manifest, bad, [k.pub]), JSON.stringify(bad));
});

t.test('fields with separators cannot be signed or verified (no two manifests share a payload)', async (t) => {
  const k = pair();
  const commas = { ...manifest, profiles: ['vendor/model-a,vendor/model-b'] };
  t.throws(() => signManifest(commas, k.priv), /separators/);
  t.notOk(verifyManifest(commas, signManifest(manifest, k.priv), [k.pub]), 'one profile "a,b" is not the two profiles a and b');
  t.throws(() => signManifest({ ...manifest, version: '1\n2' }, k.priv));
  t.notOk(Value.Check(FirmwareManifest, commas), 'the schema refuses it too');
  t.notOk(Value.Check(FirmwareManifest, { ...manifest, version: '1 2' }));
  t.ok(Value.Check(FirmwareManifest, manifest));
});

t.test('key ids: the same from the public key, its PEM or the private key; 16 hex digits', async (t) => {
  const k = pair();
  const id = keyIdOf(k.pub);
  t.match(id, /^[0-9a-f]{16}$/);
  t.equal(keyIdOf(k.publicKey), id);
  t.equal(keyIdOf(k.priv), id, 'a private key names its public half');
  t.not(keyIdOf(pair().pub), id);
});

t.test('canMoveJob: forward along the flow, fail or cancel from any live state, nothing out of a terminal one', async (t) => {
  const forward: FirmwareJobState[] = ['pending', 'downloading', 'verifying', 'installing', 'succeeded'];
  for (const from of FIRMWARE_JOB_STATES) {
    for (const to of FIRMWARE_JOB_STATES) {
      let expected: boolean;
      if (FIRMWARE_TERMINAL_STATES.includes(from)) expected = false;
      else if (to === 'failed' || to === 'cancelled') expected = true;
      else expected = forward.indexOf(to) >= forward.indexOf(from);
      t.equal(canMoveJob(from, to), expected, `${from} → ${to}`);
    }
  }
  // The cases people ask about, spelled out.
  t.ok(canMoveJob('downloading', 'downloading'), 'a progress report');
  t.ok(canMoveJob('pending', 'installing'), 'a device may skip states it has no report for');
  t.notOk(canMoveJob('installing', 'downloading'), 'no going back');
  t.notOk(canMoveJob('succeeded', 'failed'));
  t.notOk(canMoveJob('failed', 'pending'), 'a failed job is not retried in place');
  t.notOk(canMoveJob('cancelled', 'downloading'));
});
