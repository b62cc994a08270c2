import t from 'tap';
import type { ProfilePoint as Point } from '../../../contracts/profile.js';
import { ProfileLibrary } from '../../../device-profiles/library.js';
import { applyProfile } from '../../pipeline/apply-profile.js';
import { decodePoint, encodePayload, encodePointPayload, Payload, samplePayload, samplePointPayload, sampleRawValue } from './codec.js';
import { getPath, parsePath, setPath } from './json-path.js';

const smoke = ProfileLibrary.load().get('generic/nb-smoke-detector');
const json = (name: string, path: string, type: Point['type'] = 'number', topic = 'telemetry'): Point => ({ name, type, mqtt: { topic, json: path } });
const read = (payload: string | Buffer, p: Point) => decodePoint(new Payload(Buffer.isBuffer(payload) ? payload : Buffer.from(payload)), p);

// A compact binary frame as NB-IoT modules send to save airtime: level, counter, temperature, status bits, id.
const layout: Point[] = [
  { name: 'level', type: 'number', mqtt: { topic: 'up', binary: { offset: 0, dataType: 'int16' } } },
  { name: 'count', type: 'number', mqtt: { topic: 'up', binary: { offset: 2, dataType: 'uint32', order: 'CDAB' } } },
  { name: 'temp', type: 'number', mqtt: { topic: 'up', binary: { offset: 6, dataType: 'float32', order: 'DCBA' } } },
  { name: 'alarm', type: 'boolean', mqtt: { topic: 'up', binary: { offset: 10, dataType: 'bool', bit: 0 } } },
  { name: 'tamper', type: 'boolean', mqtt: { topic: 'up', binary: { offset: 10, dataType: 'uint16', bit: 9 } } },
  { name: 'id', type: 'string', mqtt: { topic: 'up', binary: { offset: 12, dataType: 'string', length: 5 } } },
];

t.test('JSON paths: keys, nesting and indexes', async (t) => {
  t.same(parsePath('sensors[0].t'), ['sensors', 0, 't']);
  t.same(parsePath('a.b-c[12][3]'), ['a', 'b-c', 12, 3]);
  t.throws(() => parsePath('a..b'));
  t.throws(() => parsePath('[0]'));
  const doc = { sensors: [{ t: 21.5 }, { t: 22 }], smoke: { alarm: false } };
  t.equal(getPath(doc, 'sensors[1].t'), 22);
  t.equal(getPath(doc, 'smoke.alarm'), false);
  t.equal(getPath(doc, 'sensors[2].t'), undefined, 'past the end');
  t.equal(getPath(doc, 'smoke.alarm.x'), undefined, 'into a scalar');
  t.equal(getPath(doc, 'smoke.constructor'), undefined, 'inherited keys are not in the payload');
  t.same(setPath({}, 'sensors[1].t', 5), { sensors: [undefined, { t: 5 }] });
  const polluted = setPath({}, '__proto__.x', 1);
  t.equal(({} as Record<string, unknown>).x, undefined, 'setPath never touches Object.prototype');
  t.same(JSON.parse(JSON.stringify(polluted)), { __proto__: { x: 1 } });
});

t.test('the NB smoke detector: a sample message decodes to the sample values, and reads as good readings', async (t) => {
  const payload = samplePayload(smoke.points);
  const doc = JSON.parse(payload.toString());
  t.match(doc, { event: 'sample', smoke: { alarm: true, density: Number }, battery: { percent: Number, voltage: Number }, signal: { rsrp: Number, ecl: Number } }, 'one JSON object, each value at its path');
  const p = new Payload(payload);
  const raws = smoke.points.map((pt) => {
    const d = decodePoint(p, pt);
    t.same(d, { ok: true, value: sampleRawValue(pt) }, pt.name);
    return d.ok ? { point: pt.name, ok: true as const, value: d.value } : { point: pt.name, ok: false as const, reason: d.reason, unreachable: false };
  });
  t.ok(applyProfile('sd-1', smoke, raws, 0).every((r) => r.quality === 'good'), 'every sample value is in range after the profile step');
  for (const pt of [...smoke.points, ...layout]) {
    t.same(decodePoint(new Payload(samplePointPayload(pt)), pt), { ok: true, value: sampleRawValue(pt) }, `${pt.name} alone`);
  }
});

t.test('garbage gives a reason per point, never an exception', async (t) => {
  const density = json('smoke_density', 'smoke.density');
  t.match(read('not json', density), { ok: false, reason: 'bad_payload', detail: /not JSON/ });
  t.match(read('', density), { ok: false, reason: 'bad_payload', detail: /empty/ });
  t.match(read('[1,2]', density), { ok: false, reason: 'bad_payload', detail: /array/ });
  t.match(read('42', density), { ok: false, reason: 'bad_payload' });
  t.match(read(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), density), { ok: false, reason: 'bad_payload' }, 'not UTF-8');
  t.match(read('{"smoke":{}}', density), { ok: false, reason: 'path_not_found' });
  t.match(read('{"smoke":3}', density), { ok: false, reason: 'path_not_found' });
  t.match(read('{"smoke":{"density":"0.1"}}', density), { ok: false, reason: 'type_mismatch' }, 'a number as a string');
  t.match(read('{"smoke":{"density":{"v":1}}}', density), { ok: false, reason: 'type_mismatch' });
  t.match(read('{"smoke":{"density":null}}', density), { ok: false, reason: 'null_value' });
  t.same(read('{"smoke":{"density":0.12}}', density), { ok: true, value: 0.12 });
  t.same(read('{"event":42}', json('event', 'event', 'string')), { ok: true, value: 42 }, 'a string point takes a number (the profile step stringifies)');
  t.match(read('{"alarm":"yes"}', json('alarm', 'alarm', 'boolean')), { ok: false, reason: 'type_mismatch' });
  t.match(read('{}', { name: 'x', type: 'number' }), { ok: false, reason: 'no_mqtt_attributes' });
});

t.test('binary layouts: fields at their offsets in the Modbus types and orders', async (t) => {
  const values = { level: -1234, count: 70_000, temp: Math.fround(21.5), alarm: true, tamper: true, id: 'SD-01' };
  const payload = encodePayload(layout, values);
  t.equal(payload.length, 17);
  t.equal(payload.readInt16BE(0), -1234);
  t.same([...payload.subarray(2, 6)], [0x11, 0x70, 0x00, 0x01], 'uint32 CDAB: low word first');
  t.equal(payload.readFloatLE(6), 21.5, 'float32 DCBA is little-endian');
  t.equal(payload.readUInt16BE(10), 0x0201, 'two bits of one status word, merged');
  t.equal(payload.subarray(12).toString(), 'SD-01');
  const p = new Payload(payload);
  t.same(Object.fromEntries(layout.map((pt) => [pt.name, (decodePoint(p, pt) as { value: unknown }).value])), values);

  t.match(decodePoint(new Payload(payload.subarray(0, 9)), layout[2]!), { ok: false, reason: 'short_payload', detail: /byte 6 needs 4 bytes; the payload has 9/ });
  t.same(decodePoint(new Payload(payload.subarray(0, 9)), layout[1]!), { ok: true, value: 70_000 }, 'fields inside a short payload still read');
  t.same(decodePoint(new Payload(Buffer.from('SD-0\0', 'latin1')), { ...layout[5]!, mqtt: { topic: 'up', binary: { offset: 0, dataType: 'string', length: 5 } } }), { ok: true, value: 'SD-0' }, 'trailing NULs are padding');
  t.throws(() => encodePointPayload(layout[5]!, 'TOO-LONG'), { code: 'GS_ERR_DRIVER_VALUE' });
  t.throws(() => encodePointPayload(layout[0]!, 40_000), { code: 'GS_ERR_DRIVER_VALUE' }, 'does not fit int16');
});

t.test('command payloads: one value at its path, or its field', async (t) => {
  t.equal(encodePointPayload(json('silence', 'cmd.silence', 'boolean'), true).toString(), '{"cmd":{"silence":true}}');
  t.same([...encodePointPayload(layout[0]!, 7)], [0, 7]);
  t.throws(() => encodePayload([layout[0]!, json('a', 'a')], { level: 1, a: 1 }), { code: 'GS_ERR_DRIVER_VALUE' }, 'JSON and binary do not mix');
});
