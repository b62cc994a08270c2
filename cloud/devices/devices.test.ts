// The device registry over HTTP: register, validate, MQTT credentials, list/filter, move, disable,
// decommission, overrides, town scope, and the configuration version of the edges it touches.
import t from 'tap';
import type { FastifyInstance } from 'fastify';
import { verifyPassword } from '../../edge/broker/password.js';
import { SAMPLE_COUNTY, testCloud } from '../test-support.js';
import { apiKey, call, enrolledEdge, modbusDevice, ok } from '../fleet/test-support.js';

const QINGQUAN_G01 = { lon: 101.04, lat: 38.8 };
const QINGQUAN_G02 = { lon: 101.1, lat: 38.8 };
const DONGLE = { lon: 101.2, lat: 38.8 };

interface Device {
  id: string;
  name: string;
  edgeId: string;
  gridId: string | null;
  townId: string | null;
  status: string;
  claimCode: string | null;
  connection: Record<string, unknown>;
  tags: string[];
  health: { status: string };
  mqtt?: { username: string; password: string; topicRoot: string };
}
interface Config {
  version: number;
  rules: string[];
  devices: Array<Record<string, unknown> & { id: string; connection: Record<string, unknown> }>;
}

async function county(t: Parameters<typeof testCloud>[0]) {
  const c = await testCloud(t, { grids: SAMPLE_COUNTY });
  await ok(call(c.app, 'PATCH', '/api/v1/edges/town-a', { body: { townId: 'qingquan' } }));
  return c;
}

const config = (app: FastifyInstance, token: string) => ok<Config>(call(app, 'GET', '/api/v1/edges/config', { as: token }));
const add = (app: FastifyInstance, body: Record<string, unknown>, as?: string) => call(app, 'POST', '/api/v1/devices', { body, ...(as ? { as } : {}) });

t.test('a registered device gets a claim code, a grid and town from its location, and reaches its edge\'s configuration', async (t) => {
  const { app, token } = await county(t);
  t.equal((await config(app, token)).version, 1);
  const res = await add(app, modbusDevice('wl-qq-001', { name: '清泉河 gauge', location: QINGQUAN_G01, site: 'riverbank', tags: ['flood', '河道'], serial: 'RG-2026-0001', pollInterval: '10s', overrides: { 'water-level-warning': { above: 3.2, clearBelow: 3.0 } } }));
  t.equal(res.statusCode, 201, res.body);
  const d = res.json<Device>();
  t.match(d, { id: 'wl-qq-001', name: '清泉河 gauge', edgeId: 'town-a', gridId: 'qingquan-riverside-g01', townId: 'qingquan', status: 'active', tags: ['flood', '河道'], health: { status: 'unknown' } });
  t.match(d.claimCode, /^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$/, 'short, human-typable');
  t.notOk('mqtt' in d, 'no MQTT secret for a Modbus device');

  const c = await config(app, token);
  t.equal(c.version, 2, 'the edge\'s version moved');
  t.same(c.devices, [
    {
      id: 'wl-qq-001',
      name: '清泉河 gauge',
      profile: 'generic/radar-water-level-gauge',
      connection: { protocol: 'modbus-tcp', host: '10.0.0.5', port: 502, unitId: 1 },
      location: QINGQUAN_G01,
      site: 'riverbank',
      pollInterval: '10s',
      overrides: { 'water-level-warning': { above: 3.2, clearBelow: 3.0 } },
    },
  ]);
  t.match(await ok(call(app, 'GET', '/api/v1/devices/wl-qq-001')), { serial: 'RG-2026-0001', location: QINGQUAN_G01 });
});

t.test('bad devices are refused with every problem and a stable code, and change nothing', async (t) => {
  const { app, token } = await county(t);
  await ok(add(app, modbusDevice('wl-1', { serial: 'S-1' })));
  const cases: Array<[string, Record<string, unknown>, number, string, string[]]> = [
    ['unknown profile', modbusDevice('x1', { profile: 'generic/radar-water-level-gaug' }), 400, 'GS_ERR_VALIDATION', ['/profile']],
    ['bad connection', modbusDevice('x2', { connection: { protocol: 'modbus-tcp', host: '10.0.0.5', port: 70000, parity: 'even' } }), 400, 'GS_ERR_VALIDATION', ['/connection/port', '/connection/parity']],
    ['protocol the profile does not speak', modbusDevice('x3', { connection: { protocol: 'opcua', endpoint: 'opc.tcp://10.0.0.9:4840' } }), 400, 'GS_ERR_VALIDATION', ['/connection/protocol']],
    ['no such driver', modbusDevice('x4', { connection: { protocol: 'zigbee' } }), 400, 'GS_ERR_VALIDATION', ['/connection/protocol']],
    ['unknown edge', modbusDevice('x5', { edge: 'town-zz' }), 400, 'GS_ERR_VALIDATION', ['/edge']],
    ['taken id', modbusDevice('wl-1'), 409, 'GS_ERR_DEVICE_EXISTS', ['/id']],
    ['taken serial', modbusDevice('x6', { serial: 'S-1' }), 409, 'GS_ERR_DEVICE_EXISTS', ['/serial']],
    ['bad id and unknown field', { ...modbusDevice('has space'), colour: 'red' }, 400, 'GS_ERR_VALIDATION', ['/id', '/colour']],
    ['override of a rule the edge does not run', modbusDevice('x7', { overrides: { 'smoke-alarm': { above: 1 } } }), 400, 'GS_ERR_VALIDATION', ['/overrides/smoke-alarm']],
    ['poll interval the edge refuses', modbusDevice('x9', { pollInterval: '5ms' }), 400, 'GS_ERR_VALIDATION', ['/pollInterval']],
    ['override with a wrong field', modbusDevice('x8', { overrides: { 'water-level-warning': { abvoe: 1 } } }), 400, 'GS_ERR_VALIDATION', ['/overrides/water-level-warning/abvoe']],
  ];
  for (const [what, body, status, code, paths] of cases) {
    const res = await add(app, body);
    t.equal(res.statusCode, status, `${what}: ${res.body}`);
    const e = res.json<{ code: string; details: Array<{ path: string }> }>();
    t.equal(e.code, code, what);
    t.same(e.details.map((x) => x.path).sort(), [...paths].sort(), `${what}: every problem, with its path`);
  }
  t.equal((await config(app, token)).version, 2, 'only the one good device moved the version');
  t.same((await ok<{ items: Array<{ id: string }> }>(call(app, 'GET', '/api/v1/devices'))).items.map((x) => x.id), ['wl-1']);
});

t.test('an MQTT device on the embedded broker: the secret is shown once, only its scrypt hash is kept and handed to the edge', async (t) => {
  const { app, token } = await county(t);
  const res = await add(app, { id: 'smoke-nh-01', profile: 'generic/nb-smoke-detector', edge: 'town-a', connection: { protocol: 'mqtt' } });
  t.equal(res.statusCode, 201, res.body);
  const d = res.json<Device>();
  t.match(d.mqtt, { username: 'smoke-nh-01', topicRoot: 'devices/smoke-nh-01/' });
  const password = d.mqtt!.password;
  t.match(password, /^[A-Za-z0-9_-]{24}$/);
  t.same(d.connection, { protocol: 'mqtt', username: 'smoke-nh-01', passwordHash: '[hidden]' });

  const shown = await call(app, 'GET', '/api/v1/devices/smoke-nh-01');
  t.notOk(shown.body.includes(password), 'never shown again');
  t.notOk(shown.body.includes('scrypt$'), 'the hash is not shown either');
  const row = await app.db.selectFrom('devices').select('connection').where('id', '=', 'smoke-nh-01').executeTakeFirstOrThrow();
  t.notOk(row.connection.includes(password), 'the secret is not stored');
  const block = (await config(app, token)).devices.find((x) => x.id === 'smoke-nh-01')!;
  const hash = block.connection.passwordHash as string;
  t.match(hash, /^scrypt\$16384\$8\$1\$/);
  t.ok(await verifyPassword(password, hash), 'the stored hash verifies the secret');
  t.notOk(await verifyPassword('wrong', hash));

  const renewed = await ok<{ mqtt: { password: string } }>(call(app, 'POST', '/api/v1/devices/smoke-nh-01/mqtt-credentials'));
  const hash2 = (await config(app, token)).devices.find((x) => x.id === 'smoke-nh-01')!.connection.passwordHash as string;
  t.ok(await verifyPassword(renewed.mqtt.password, hash2), 'a renewed secret verifies');
  t.notOk(await verifyPassword(password, hash2), 'the old one no longer does');

  const clash = await add(app, { id: 'smoke-nh-02', profile: 'generic/nb-smoke-detector', edge: 'town-a', connection: { protocol: 'mqtt', username: 'smoke-nh-01' } });
  t.equal(clash.statusCode, 409);
  t.match(clash.json(), { code: 'GS_ERR_MQTT_ACCOUNT_CONFLICT', details: [{ path: '/connection/username' }] });
  const given = await ok<Device>(add(app, { id: 'smoke-nh-03', profile: 'generic/nb-smoke-detector', edge: 'town-a', connection: { protocol: 'mqtt', password: 'chosen-by-installer' } }));
  t.notOk(given.mqtt, 'a password the technician chose is not echoed');
  const hash3 = (await config(app, token)).devices.find((x) => x.id === 'smoke-nh-03')!.connection;
  t.notOk('password' in hash3, 'kept as a hash only');
  t.ok(await verifyPassword('chosen-by-installer', hash3.passwordHash as string));
  t.equal((await call(app, 'POST', '/api/v1/devices/x/mqtt-credentials')).statusCode, 404);
});

t.test('list: filters by edge, town, grid, profile, status, tag; pages by cursor', async (t) => {
  const { app } = await county(t);
  await enrolledEdge(app, 'town-b', 'dongle');
  for (let i = 1; i <= 5; i++) await ok(add(app, modbusDevice(`wl-${i}`, { location: i <= 3 ? QINGQUAN_G01 : QINGQUAN_G02, tags: i % 2 ? ['odd'] : ['even'] })));
  await ok(add(app, modbusDevice('wl-d1', { edge: 'town-b', location: DONGLE })));
  await ok(add(app, { id: 'sm-1', profile: 'generic/nb-smoke-detector', edge: 'town-b', connection: { protocol: 'mqtt' }, disabled: true }));
  const ids = async (q: string) => (await ok<{ items: Array<{ id: string }> }>(call(app, 'GET', `/api/v1/devices${q}`))).items.map((x) => x.id);
  t.same(await ids(''), ['sm-1', 'wl-1', 'wl-2', 'wl-3', 'wl-4', 'wl-5', 'wl-d1']);
  t.same(await ids('?edge=town-b'), ['sm-1', 'wl-d1']);
  t.same(await ids('?town=dongle'), ['sm-1', 'wl-d1'], "no location: its edge's town");
  t.same(await ids('?grid=qingquan-riverside-g02'), ['wl-4', 'wl-5']);
  t.same(await ids('?profile=generic/nb-smoke-detector'), ['sm-1']);
  t.same(await ids('?status=disabled'), ['sm-1']);
  t.same(await ids('?tag=odd'), ['wl-1', 'wl-3', 'wl-5']);
  t.same(await ids('?tag=odd&grid=qingquan-riverside-g01'), ['wl-1', 'wl-3']);
  t.same(await ids('?health=unknown&edge=town-a'), ['wl-1', 'wl-2', 'wl-3', 'wl-4', 'wl-5']);
  const p1 = await ok<{ items: Array<{ id: string }>; nextCursor: string }>(call(app, 'GET', '/api/v1/devices?limit=3'));
  const p2 = await ok<{ items: Array<{ id: string }>; nextCursor: string }>(call(app, 'GET', `/api/v1/devices?limit=3&cursor=${p1.nextCursor}`));
  const p3 = await ok<{ items: Array<{ id: string }>; nextCursor: string | null }>(call(app, 'GET', `/api/v1/devices?limit=3&cursor=${p2.nextCursor}`));
  t.same([...p1.items, ...p2.items, ...p3.items].map((x) => x.id), await ids(''));
  t.equal(p3.nextCursor, null);
  t.equal((await call(app, 'GET', '/api/v1/devices?cursor=garbage')).json().code, 'GS_ERR_VALIDATION');
});

t.test('move, disable, enable, decommission: each moves the versions of the edges it touches', async (t) => {
  const { app, token } = await county(t);
  const tokenB = await enrolledEdge(app, 'town-b', 'dongle');
  await ok(add(app, modbusDevice('wl-1', { location: QINGQUAN_G01 })));
  const v = async () => [(await config(app, token)).version, (await config(app, tokenB)).version];
  t.same(await v(), [2, 1]);

  const moved = await ok<Device>(call(app, 'POST', '/api/v1/devices/wl-1/move', { body: { location: QINGQUAN_G02 } }));
  t.match(moved, { gridId: 'qingquan-riverside-g02', townId: 'qingquan' });
  t.same(await v(), [3, 1]);
  t.same((await config(app, token)).devices[0]!.location, QINGQUAN_G02);

  const toB = await ok<Device>(call(app, 'POST', '/api/v1/devices/wl-1/move', { body: { edge: 'town-b', location: DONGLE } }));
  t.match(toB, { edgeId: 'town-b', townId: 'dongle', gridId: 'dongle-market-g01' });
  t.same(await v(), [4, 2], 'both edges moved');
  t.same((await config(app, token)).devices, []);
  t.same((await config(app, tokenB)).devices.map((x) => x.id), ['wl-1']);

  t.match(await ok(call(app, 'POST', '/api/v1/devices/wl-1/disable')), { status: 'disabled' });
  t.same((await config(app, tokenB)).devices, [], 'a disabled device is off its edge');
  t.same(await v(), [4, 3]);
  t.equal((await call(app, 'POST', '/api/v1/devices/wl-1/disable')).json().code, 'GS_ERR_DEVICE_STATE');
  t.match(await ok(call(app, 'POST', '/api/v1/devices/wl-1/enable')), { status: 'active' });
  t.same((await config(app, tokenB)).devices.map((x) => x.id), ['wl-1']);

  await ok(call(app, 'DELETE', '/api/v1/edges/town-a'));
  t.equal((await call(app, 'POST', '/api/v1/devices/wl-1/move', { body: { edge: 'town-a' } })).json().code, 'GS_ERR_EDGE_REVOKED');
  t.equal((await add(app, modbusDevice('wl-2'))).json().code, 'GS_ERR_EDGE_REVOKED');

  const gone = await ok<Device>(call(app, 'DELETE', '/api/v1/devices/wl-1'));
  t.match(gone, { status: 'decommissioned', claimCode: null });
  t.same((await config(app, tokenB)).devices, []);
  t.equal((await call(app, 'POST', '/api/v1/devices/wl-1/decommission')).statusCode, 409);
  t.equal((await call(app, 'POST', '/api/v1/devices/wl-1/move', { body: { location: DONGLE } })).json().code, 'GS_ERR_DEVICE_STATE');
  t.same((await ok<{ items: unknown[] }>(call(app, 'GET', '/api/v1/devices'))).items, [], 'decommissioned devices leave the list');
  t.same((await ok<{ items: Array<{ id: string }> }>(call(app, 'GET', '/api/v1/devices?status=decommissioned'))).items.map((x) => x.id), ['wl-1']);
  t.equal((await add(app, modbusDevice('wl-1', { edge: 'town-b' }))).statusCode, 409, 'its id stays taken');
});

t.test('PATCH: overrides (checked against the edge\'s rules), tags, name; edge rules list', async (t) => {
  const { app, token } = await county(t);
  await ok(add(app, modbusDevice('wl-1')));
  const patched = await ok<Device & { overrides: unknown }>(call(app, 'PATCH', '/api/v1/devices/wl-1', { body: { overrides: { 'water-level-warning': { above: 2.8, clearBelow: 2.6 } }, tags: ['a', 'b'], name: 'renamed' } }));
  t.match(patched, { name: 'renamed', tags: ['a', 'b'], overrides: { 'water-level-warning': { above: 2.8, clearBelow: 2.6 } } });
  const c = await config(app, token);
  t.equal(c.version, 3);
  t.same(c.devices[0]!.overrides, { 'water-level-warning': { above: 2.8, clearBelow: 2.6 } });
  const tagsOnly = await ok(call(app, 'PATCH', '/api/v1/devices/wl-1', { body: { tags: ['c'] } }));
  t.match(tagsOnly, { tags: ['c'] });
  t.equal((await config(app, token)).version, 3, 'tags are not the edge\'s business');
  t.same((await ok<{ items: Array<{ id: string }> }>(call(app, 'GET', '/api/v1/devices?tag=c'))).items.map((x) => x.id), ['wl-1']);
  const wrong = await call(app, 'PATCH', '/api/v1/devices/wl-1', { body: { overrides: { 'water-level-warning': { above: 2.8, clearBelow: 3.5 } } } });
  t.equal(wrong.statusCode, 400);
  t.match(wrong.json(), { code: 'GS_ERR_VALIDATION', details: [{ path: /^\/overrides\/water-level-warning/ }] });
  t.equal((await config(app, token)).version, 3, 'a refused change changes nothing');

  // The edge's own rule list: files must exist; fire.yaml adds rules overrides may then name.
  t.match((await call(app, 'PUT', '/api/v1/edges/town-a/rules', { body: { rules: ['no-such.yaml'] } })).json(), { code: 'GS_ERR_VALIDATION', details: [{ path: '/rules/0' }] });
  const put = await ok<{ config: { desiredVersion: number; rules: string[] } }>(call(app, 'PUT', '/api/v1/edges/town-a/rules', { body: { rules: ['rain.yaml'] } }));
  t.match(put.config, { desiredVersion: 4, rules: ['rain.yaml'] });
  t.same((await config(app, token)).rules, ['rain.yaml']);
  const cleared = await ok<{ overrides: unknown }>(call(app, 'PATCH', '/api/v1/devices/wl-1', { body: { overrides: null } }));
  t.equal(cleared.overrides, null);
  t.notOk('overrides' in (await config(app, token)).devices[0]!);
});

t.test("a town's key sees and changes only its town's devices", async (t) => {
  const { app } = await county(t);
  await enrolledEdge(app, 'town-b', 'dongle');
  await ok(add(app, modbusDevice('wl-q', { location: QINGQUAN_G01 })));
  await ok(add(app, modbusDevice('wl-noloc')));
  await ok(add(app, modbusDevice('wl-d', { edge: 'town-b', location: DONGLE })));
  const qq = await apiKey(app, 'technician', 'qingquan');
  const list = await ok<{ items: Array<{ id: string; townId: string }> }>(call(app, 'GET', '/api/v1/devices', { as: qq }));
  t.same(list.items.map((x) => [x.id, x.townId]), [['wl-noloc', 'qingquan'], ['wl-q', 'qingquan']], "a device without a location is in its edge's town");
  t.equal((await call(app, 'GET', '/api/v1/devices?town=dongle', { as: qq })).statusCode, 403);
  t.equal((await call(app, 'GET', '/api/v1/devices/wl-d', { as: qq })).statusCode, 404);
  t.equal((await call(app, 'POST', '/api/v1/devices/wl-d/disable', { as: qq })).statusCode, 404);
  const outside = await add(app, modbusDevice('wl-x', { edge: 'town-b', location: DONGLE }), qq);
  t.equal(outside.statusCode, 403);
  t.equal(outside.json().code, 'GS_ERR_AUTH_FORBIDDEN');
  t.equal((await add(app, modbusDevice('wl-y', { location: QINGQUAN_G02 }), qq)).statusCode, 201);
  t.equal((await call(app, 'POST', '/api/v1/devices/wl-q/move', { as: qq, body: { location: DONGLE } })).statusCode, 403, 'cannot move a device out of its town');
  const dispatcher = await apiKey(app, 'dispatcher');
  t.equal((await call(app, 'GET', '/api/v1/devices', { as: dispatcher })).statusCode, 200, 'dispatchers read the registry');
  t.equal((await add(app, modbusDevice('wl-z'), dispatcher)).statusCode, 403, 'but do not change it');
  const integrator = await apiKey(app, 'integrator');
  t.equal((await call(app, 'GET', '/api/v1/devices', { as: integrator })).statusCode, 403);
});

t.test('claiming: the code on the label sets the location once; a wrong code is 404, a used one 409', async (t) => {
  const { app, token } = await county(t);
  const d = await ok<Device>(add(app, modbusDevice('wl-1')));
  t.equal(d.townId, 'qingquan', "no location yet: its edge's town");
  const tech = await apiKey(app, 'technician');
  const dispatcher = await apiKey(app, 'dispatcher');
  const code = d.claimCode!;
  t.equal((await call(app, 'POST', '/api/v1/devices/claim', { as: dispatcher, body: { code, ...QINGQUAN_G02 } })).statusCode, 403, 'claiming is a technician\'s');
  const wrong = await call(app, 'POST', '/api/v1/devices/claim', { as: tech, body: { code: 'ZZZZ-ZZZZ', ...QINGQUAN_G02 } });
  t.equal(wrong.statusCode, 404);
  t.equal(wrong.json().code, 'GS_ERR_CLAIM_UNKNOWN');
  // Typed off the label: lower case, no dash, O for 0 and l for 1 all read the same.
  const typed = code.toLowerCase().replace('-', ' ').replace(/0/g, 'o').replace(/1/g, 'l');
  const claimed = await call(app, 'POST', '/api/v1/devices/claim', { as: tech, body: { code: typed, ...QINGQUAN_G02, site: 'riverbank' } });
  t.equal(claimed.statusCode, 200, claimed.body);
  t.match(claimed.json(), { id: 'wl-1', location: QINGQUAN_G02, gridId: 'qingquan-riverside-g02', townId: 'qingquan', site: 'riverbank', claimedAt: '2026-07-01T08:00:00.000Z' });
  t.match((await config(app, token)).devices[0], { location: QINGQUAN_G02, site: 'riverbank' }, 'the edge learns the location');
  const again = await call(app, 'POST', '/api/v1/devices/claim', { as: tech, body: { code, ...DONGLE } });
  t.equal(again.statusCode, 409);
  t.equal(again.json().code, 'GS_ERR_CLAIM_USED');
  t.match(await ok(call(app, 'GET', '/api/v1/devices/wl-1')), { location: QINGQUAN_G02 }, 'the second claim changed nothing');
  const audit = await app.db.selectFrom('audit_log').select(['route', 'status', 'actor_name']).where('route', '=', '/api/v1/devices/claim').execute();
  t.ok(audit.some((a) => a.status === 200 && a.actor_name === 'technician-county'), 'claims are audited with who made them');
});

t.test('cameras register like any device (their login stays hidden); fleet status counts them by kind', async (t) => {
  const { app, token } = await county(t);
  const cam = await add(app, { id: 'cam-qq-01', profile: 'generic/onvif-ipc', edge: 'town-a', connection: { protocol: 'onvif', host: '10.20.0.7', username: 'admin', password: 'cam-pass' }, location: QINGQUAN_G01 });
  t.equal(cam.statusCode, 201, cam.body);
  t.notOk(cam.body.includes('cam-pass'), 'the camera password is not shown');
  t.match(cam.json(), { kind: 'camera', connection: { protocol: 'onvif', host: '10.20.0.7', username: 'admin', password: '[hidden]' } });
  t.match((await config(app, token)).devices[0]!.connection, { password: 'cam-pass' }, 'the edge gets what it needs to log in');
  const bad = await add(app, { id: 'cam-qq-02', profile: 'generic/rtsp-camera', edge: 'town-a', connection: { protocol: 'rtsp' } });
  t.equal(bad.statusCode, 400);
  t.equal((await add(app, { id: 'cam-qq-03', profile: 'generic/rtsp-camera', edge: 'town-a', connection: { protocol: 'modbus-tcp', host: 'x' } })).json().details[0].path, '/connection/protocol');
  await ok(add(app, modbusDevice('wl-1', { location: QINGQUAN_G01 })));
  const s = await ok<{ towns: Array<{ townId: string; byKind: Array<{ kind: string; devices: { total: number } }> }> }>(call(app, 'GET', '/api/v1/fleet/status'));
  t.same(s.towns.find((x) => x.townId === 'qingquan')!.byKind.map((k) => [k.kind, k.devices.total]), [['camera', 1], ['water_level', 1]]);
});
