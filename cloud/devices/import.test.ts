// Bulk import from CSV: a per-line error report, nothing half-imported unless asked.
import t from 'tap';
import type { FastifyInstance } from 'fastify';
import { verifyPassword } from '../../edge/broker/password.js';
import { ADMIN, SAMPLE_COUNTY, testCloud } from '../test-support.js';
import { call, ok } from '../fleet/test-support.js';
import { csvDevices, parseCsv } from './csv.js';

const importCsv = (app: FastifyInstance, csv: string, query = '') =>
  app.inject({ method: 'POST', url: `/api/v1/devices/import${query}`, headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'text/csv; charset=utf-8' }, payload: csv });

const HEADER = 'id,name,profile,edge,serial,protocol,host,port,unitId,lon,lat,site,tags';
const GOOD = [
  'wl-001,"清泉河, bridge gauge",generic/radar-water-level-gauge,town-a,SN-1,modbus-tcp,10.0.0.5,502,1,101.04,38.8,riverbank,flood;河道',
  'wl-002,Gauge 2,generic/radar-water-level-gauge,town-a,SN-2,modbus-tcp,10.0.0.5,502,2,101.1,38.8,,flood',
  'rain-01,Rain gauge,generic/tipping-bucket-rain-gauge,town-a,,modbus-rtu,,/dev/ttyUSB0,7,,,,',
];
const BAD = [
  'wl-003,Bad port,generic/radar-water-level-gauge,town-a,SN-3,modbus-tcp,10.0.0.6,http,1,101.04,38.8,,',
  'wl-004,No such model,generic/radar-gauge,town-a,SN-1,modbus-tcp,10.0.0.6,502,1,101.04,north,,',
];

const lines = (...rows: string[]) => [HEADER, ...rows].join('\r\n') + '\r\n';
const version = async (app: FastifyInstance, token: string) => (await ok<{ version: number }>(call(app, 'GET', '/api/v1/edges/config', { as: token }))).version;
const ids = async (app: FastifyInstance) => (await ok<{ items: Array<{ id: string }> }>(call(app, 'GET', '/api/v1/devices'))).items.map((d) => d.id);

t.test('a file with bad lines imports nothing and reports every problem of every line', async (t) => {
  const { app, token } = await testCloud(t, { grids: SAMPLE_COUNTY });
  // Line numbers as a spreadsheet shows them: header 1, devices from 2 (the bad ones are 4 and 6).
  const res = await importCsv(app, lines(GOOD[0]!, GOOD[1]!, BAD[0]!, GOOD[2]!, BAD[1]!));
  t.equal(res.statusCode, 400);
  const e = res.json<{ code: string; message: string; details: Array<{ path: string; message: string }> }>();
  t.equal(e.code, 'GS_ERR_IMPORT_INVALID');
  t.match(e.message, /2 of 5 line\(s\) have errors; nothing was imported/);
  t.same(
    e.details.map((d) => d.path),
    ['/rows/4/connection/port', '/rows/6/location/lat', '/rows/6/profile', '/rows/6/serial'],
  );
  t.match(e.details[0]!.message, /^wl-003: must be a whole number, got "http"/);
  t.same(await ids(app), [], 'nothing imported');
  t.equal(await version(app, token), 1, 'the edge saw no change');
});

t.test('?partial=true imports the good lines and reports the others; secrets and claim codes come back', async (t) => {
  const { app, token } = await testCloud(t, { grids: SAMPLE_COUNTY });
  const mqtt = 'id,profile,edge,protocol,connection\nsmoke-1,generic/nb-smoke-detector,town-a,mqtt,\nsmoke-2,generic/nb-smoke-detector,town-a,,"{""protocol"":""mqtt"",""topicRoot"":""nh/xinhe/""}"\nsmoke-3,generic/nb-smoke-detector,town-a,mqtt,"{""username"":""smoke-1""}"\n';
  const res = await importCsv(app, mqtt, '?partial=true');
  t.equal(res.statusCode, 200, res.body);
  const r = res.json<{ imported: number; devices: Array<{ id: string; line: number; claimCode: string; mqtt?: { username: string; password: string; topicRoot: string } }>; failed: Array<{ line: number; id: string; errors: Array<{ path: string }> }> }>();
  t.equal(r.imported, 2);
  t.same(r.devices.map((d) => [d.id, d.line, d.mqtt?.username, d.mqtt?.topicRoot]), [['smoke-1', 2, 'smoke-1', 'devices/smoke-1/'], ['smoke-2', 3, 'smoke-2', 'nh/xinhe/']]);
  t.match(r.failed, [{ line: 4, id: 'smoke-3', errors: [{ path: '/connection/username' }] }], 'the same MQTT user twice on one edge');
  const config = await ok<{ version: number; devices: Array<{ id: string; connection: { passwordHash: string } }> }>(call(app, 'GET', '/api/v1/edges/config', { as: token }));
  t.equal(config.version, 2, 'one import, one version');
  for (const d of r.devices) t.ok(await verifyPassword(d.mqtt!.password, config.devices.find((x) => x.id === d.id)!.connection.passwordHash), `${d.id}: its hash verifies`);
  t.ok(r.devices.every((d) => /^[0-9A-Z]{4}-[0-9A-Z]{4}$/.test(d.claimCode)), 'claim codes for the labels');

  const more = await importCsv(app, lines(GOOD[0]!, BAD[0]!, GOOD[1]!, GOOD[2]!, BAD[1]!), '?partial=true');
  t.equal(more.statusCode, 200);
  t.match(more.json(), { imported: 3, failed: [{ line: 3, id: 'wl-003' }, { line: 6, id: 'wl-004' }] });
  t.same(await ids(app), ['rain-01', 'smoke-1', 'smoke-2', 'wl-001', 'wl-002']);
  const wl1 = await ok(call(app, 'GET', '/api/v1/devices/wl-001'));
  t.match(wl1, { name: '清泉河, bridge gauge', serial: 'SN-1', gridId: 'qingquan-riverside-g01', townId: 'qingquan', site: 'riverbank', tags: ['flood', '河道'] });
  t.match(await ok(call(app, 'GET', '/api/v1/devices/rain-01')), { connection: { protocol: 'modbus-rtu', port: '/dev/ttyUSB0', unitId: 7 } }, "a serial line's port is its path");

  // Importing the same file again: every line is taken.
  const again = await importCsv(app, lines(GOOD[0]!, GOOD[1]!));
  t.equal(again.statusCode, 400);
  t.same(again.json<{ details: Array<{ path: string }> }>().details.map((d) => d.path), ['/rows/2/id', '/rows/2/serial', '/rows/3/id', '/rows/3/serial']);
});

t.test('duplicates inside the file, dry runs, header problems, wrong media type', async (t) => {
  const { app } = await testCloud(t, { grids: SAMPLE_COUNTY });
  const dup = await importCsv(app, lines(GOOD[0]!, GOOD[0]!.replace('SN-1', 'SN-9'), GOOD[1]!.replace('SN-2', 'SN-1')));
  t.same(dup.json<{ details: Array<{ path: string }> }>().details.map((d) => d.path), ['/rows/3/id', '/rows/4/serial']);
  const dry = await importCsv(app, lines(...GOOD), '?dryRun=true');
  t.match(dry.json(), { imported: 0, dryRun: true, failed: [] });
  t.same(await ids(app), []);
  const unknown = await importCsv(app, 'id,profile,edge,protocol,colour\nx,generic/radar-water-level-gauge,town-a,modbus-tcp,red\n');
  t.match(unknown.json(), { code: 'GS_ERR_IMPORT_INVALID', details: [{ path: '/rows/1/4', message: /unknown column "colour"/ }] });
  const missing = await importCsv(app, 'name,protocol\nx,modbus-tcp\n');
  t.same(missing.json<{ details: Array<{ message: string }> }>().details.map((d) => d.message), ['the header needs a "id" column', 'the header needs a "profile" column', 'the header needs a "edge" column']);
  t.equal((await importCsv(app, `${HEADER}\n`)).json().code, 'GS_ERR_IMPORT_INVALID');
  const json = await app.inject({ method: 'POST', url: '/api/v1/devices/import', headers: { authorization: `Bearer ${ADMIN}` }, payload: { csv: 'x' } });
  t.equal(json.statusCode, 415);
  t.equal((await importCsv(app, 'id,profile,edge,protocol\n"x,generic')).json<{ details: Array<{ message: string }> }>().details[0]!.message, 'a quoted field is never closed');
});

t.test('CSV: quotes, doubled quotes, CRLF, BOM, blank lines, a quoted newline', async (t) => {
  const { records, errors } = parseCsv('\ufeffa,b,c\r\n"x, y","say ""hi""",\n\n"two\nlines",2,3');
  t.same(errors, []);
  t.same(records, [
    { line: 1, fields: ['a', 'b', 'c'] },
    { line: 2, fields: ['x, y', 'say "hi"', ''] },
    { line: 4, fields: ['two\nlines', '2', '3'] },
  ]);
  const { rows } = csvDevices('ID,Unit_Id,Poll Interval,disabled,lon,lat,profile,edge,protocol\nx,3,30,yes,1.5,2.5,p,e,modbus-tcp\ny,z,5s,maybe,,,p,e,modbus-tcp\n');
  t.same(rows[0], { line: 2, errors: [], input: { id: 'x', profile: 'p', edge: 'e', connection: { protocol: 'modbus-tcp', unitId: 3 }, location: { lon: 1.5, lat: 2.5 }, pollInterval: 30, disabled: true } });
  t.same(rows[1]!.errors.map((e) => e.path), ['/connection/unitId', '/disabled']);
});
