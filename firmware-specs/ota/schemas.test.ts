// The committed JSON Schemas are what contracts/firmware-ota.ts generates, and the chunk layout reads back
// what it wrote (and refuses what is not a chunk).
import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import Value from 'typebox/value';
import { decodeChunk, encodeChunk, OtaOffer, OtaRequest, OtaStatus, otaJsonSchemas } from '../../contracts/firmware-ota.js';
import { schemaFileText, SCHEMAS_DIR } from './write-schemas.js';

t.test('schemas/*.schema.json equal the generated ones', async (t) => {
  const generated = otaJsonSchemas();
  const committed = readdirSync(SCHEMAS_DIR).filter((f) => f.endsWith('.schema.json')).sort();
  t.same(committed, Object.keys(generated).sort(), 'one file per schema, no strays');
  for (const [name, doc] of Object.entries(generated)) {
    t.equal(readFileSync(new URL(name, SCHEMAS_DIR), 'utf8'), schemaFileText(doc), `${name} is stale: regenerate with npx tsx firmware-specs/ota/write-schemas.ts`);
  }
});

t.test('the README examples are valid messages', async (t) => {
  const readme = readFileSync(new URL('./README.md', import.meta.url), 'utf8');
  const example = (name: string) => {
    const m = new RegExp('<!-- ' + name + ' -->\\s*```json\\n([\\s\\S]*?)```').exec(readme);
    if (!m) throw new Error(`no ${name} example in the README`);
    return JSON.parse(m[1]!) as unknown;
  };
  t.ok(Value.Check(OtaOffer, example('offer')), 'offer');
  t.ok(Value.Check(OtaRequest, example('request')), 'request');
  t.ok(Value.Check(OtaStatus, example('status-downloading')), 'downloading status');
  t.ok(Value.Check(OtaStatus, example('status-failed')), 'failed status');
  t.notOk(Value.Check(OtaRequest, { job_id: 'j', offset: -1, length: 10 }), 'a negative offset is refused');
  t.notOk(Value.Check(OtaStatus, { job_id: 'j', state: 'pending' }), 'pending is not a device state');
});

t.test('chunk layout: round trip, unknown header fields skipped, garbage refused', async (t) => {
  const data = Buffer.from([0, 1, 2, 250, 255]);
  const bytes = encodeChunk({ jobId: 'job-α', offset: 4096, size: 70000, data });
  t.equal(bytes.readUInt16BE(0), 1, 'word 0 is the layout version');
  t.same(decodeChunk(bytes), { jobId: 'job-α', offset: 4096, size: 70000, data });
  // A future layout with a longer header: same version word semantics, data after the stated length.
  const longer = Buffer.concat([bytes.subarray(0, 14 + Buffer.byteLength('job-α')), Buffer.from([9, 9]), data]);
  longer.writeUInt16BE(14 + Buffer.byteLength('job-α') + 2, 2);
  t.same(decodeChunk(longer)?.data, data, 'the header length tells where the data starts');
  t.equal(decodeChunk(Buffer.from('{"json":true}')), undefined, 'JSON is not a chunk');
  t.equal(decodeChunk(Buffer.alloc(5)), undefined, 'too short');
  const wrongVersion = Buffer.from(bytes);
  wrongVersion.writeUInt16BE(2, 0);
  t.equal(decodeChunk(wrongVersion), undefined, 'an unknown layout version');
  const badLength = Buffer.from(bytes);
  badLength.writeUInt16BE(60000, 2);
  t.equal(decodeChunk(badLength), undefined, 'a header longer than the payload');
});
