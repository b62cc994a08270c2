// The OPC UA driver's pure parts: value conversion both ways, failure reasons, the connection block.
import t from 'tap';
import { BuiltinType, decodeDataValue, encodeWriteValue, fromHighLow, toHighLow } from './codec.js';
import { busIdOf, linkKey, opcuaConnectionErrors, resolveOpcua } from './connection.js';
import { isSessionGone, statusReason, toOpcuaFailure } from './failure.js';

const good = { value: 0, name: 'Good' };
const dv = (dataType: number, value: unknown, statusCode = good, arrayType = 0) => ({ statusCode, value: { dataType, arrayType, value } });

t.test('values decode by their built-in type; Bad status codes are bad readings with the status as reason', async (t) => {
  t.same(decodeDataValue('a', dv(BuiltinType.Double, 2.5)), { point: 'a', ok: true, value: 2.5 });
  t.same(decodeDataValue('a', dv(BuiltinType.Boolean, true)), { point: 'a', ok: true, value: true });
  t.same(decodeDataValue('a', dv(BuiltinType.Int16, -3)), { point: 'a', ok: true, value: -3 });
  t.same(decodeDataValue('a', dv(BuiltinType.String, 'auto')), { point: 'a', ok: true, value: 'auto' });
  t.same(decodeDataValue('a', dv(BuiltinType.LocalizedText, { text: '就地' })), { point: 'a', ok: true, value: '就地' });
  t.same(decodeDataValue('a', dv(BuiltinType.Int64, toHighLow(-5))), { point: 'a', ok: true, value: -5 });
  t.same(decodeDataValue('a', dv(BuiltinType.UInt64, [1, 2])), { point: 'a', ok: true, value: 4294967298 });
  t.same(decodeDataValue('a', dv(BuiltinType.DateTime, new Date(1000))), { point: 'a', ok: true, value: 1000 });
  t.same(decodeDataValue('a', dv(BuiltinType.Double, 1, { value: 0x80340000, name: 'BadNodeIdUnknown' })), {
    point: 'a', ok: false, reason: 'opcua_bad_node_id_unknown', unreachable: false,
  });
  t.same(decodeDataValue('a', dv(BuiltinType.Double, 7, { value: 0x40900000, name: 'UncertainLastUsableValue' })), { point: 'a', ok: true, value: 7 }, 'uncertain still carries a value');
  t.match(decodeDataValue('a', dv(BuiltinType.Double, [1, 2], good, 1)), { ok: false, reason: 'opcua_array_not_supported' });
  t.match(decodeDataValue('a', dv(BuiltinType.Null, null)), { ok: false, reason: 'opcua_no_value' });
  t.match(decodeDataValue('a', dv(BuiltinType.ExtensionObject, {})), { ok: false, reason: 'opcua_unsupported_data_type' });
});

t.test('64-bit integers round-trip through [high, low]', async (t) => {
  for (const n of [0, 1, -1, 2 ** 40, -(2 ** 40), Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER]) {
    t.equal(fromHighLow(toHighLow(n), true), n, String(n));
  }
  t.equal(fromHighLow([0xffffffff, 0xffffffff], false), 2 ** 64 - 1);
});

t.test('writes take the node data type; what does not fit is GS_ERR_DRIVER_VALUE naming the node', async (t) => {
  const scalar = (dataType: number) => ({ dataType, valueRank: -1 });
  t.same(encodeWriteValue(55.5, scalar(BuiltinType.Float), 'x'), { dataType: BuiltinType.Float, arrayType: 0, value: 55.5 });
  t.same(encodeWriteValue(1, scalar(BuiltinType.Boolean), 'x'), { dataType: BuiltinType.Boolean, arrayType: 0, value: true });
  t.same(encodeWriteValue(true, scalar(BuiltinType.UInt16), 'x'), { dataType: BuiltinType.UInt16, arrayType: 0, value: 1 });
  t.same(encodeWriteValue(2 ** 40, scalar(BuiltinType.Int64), 'x'), { dataType: BuiltinType.Int64, arrayType: 0, value: [256, 0] });
  t.same(encodeWriteValue(3, scalar(BuiltinType.String), 'x'), { dataType: BuiltinType.String, arrayType: 0, value: '3' });
  t.same(encodeWriteValue(3, scalar(BuiltinType.Variant), 'x'), { dataType: BuiltinType.Double, arrayType: 0, value: 3 }, 'BaseDataType: the value decides');
  const refused: Array<[unknown, number, RegExp]> = [
    [1.5, BuiltinType.Int16, /not a whole number/],
    [40000, BuiltinType.Int16, /outside -32768…32767/],
    [-1, BuiltinType.Byte, /outside 0…255/],
    ['on', BuiltinType.Boolean, /Boolean/],
    ['7', BuiltinType.Double, /Double/],
    [1, BuiltinType.DateTime, /cannot write/],
  ];
  for (const [value, type, message] of refused) {
    t.throws(() => encodeWriteValue(value as number, scalar(type), 'point p (ns=2;s=X)'), { code: 'GS_ERR_DRIVER_VALUE', message }, `${String(value)} into ${type}`);
  }
  t.throws(() => encodeWriteValue(1, { dataType: BuiltinType.Double, valueRank: 1 }, 'x'), { code: 'GS_ERR_DRIVER_VALUE', message: /array/ });
});

t.test('failure reasons: status names in snake_case, socket errors by errno, security refusals marked', async (t) => {
  t.equal(statusReason('BadNodeIdUnknown'), 'opcua_bad_node_id_unknown');
  t.equal(statusReason('BadUserAccessDenied'), 'opcua_bad_user_access_denied');
  t.equal(statusReason('BadTCPEndpointUrlInvalid'), 'opcua_bad_tcp_endpoint_url_invalid');
  t.match(toOpcuaFailure(new Error('BadUserAccessDenied (0x801f0000)')), { code: 'GS_ERR_OPCUA_SECURITY', reason: 'opcua_bad_user_access_denied', unreachable: true });
  t.match(toOpcuaFailure(new Error('server Certificate verification failed with err BadCertificateUntrusted (0x801a0000)')), {
    code: 'GS_ERR_OPCUA_SECURITY', reason: 'opcua_bad_certificate_untrusted',
  });
  t.match(toOpcuaFailure(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' })), { code: 'GS_ERR_DEVICE_UNREACHABLE', reason: 'connection_refused' });
  t.match(toOpcuaFailure(Object.assign(new Error('getaddrinfo ENOTFOUND plc'), { code: 'ENOTFOUND' })), { reason: 'host_not_found' });
  t.match(toOpcuaFailure(new Error('Transaction has timed out ( timeout = 5000 ms , request = ReadRequest)')), { code: 'GS_ERR_OPCUA_TIMEOUT', reason: 'timeout' });
  t.match(toOpcuaFailure(new Error('Cannot find an Endpoint matching  security mode: 3 policy: …')), { code: 'GS_ERR_OPCUA_SECURITY', reason: 'opcua_no_matching_endpoint' });
  t.ok(isSessionGone(toOpcuaFailure(new Error('BadSessionIdInvalid (0x80250000)'))));
  t.notOk(isSessionGone(toOpcuaFailure(new Error('BadTooManyOperations (0x80100000)'))));
});

t.test('connection block: schema, combinations, defaults, one key per server and identity', async (t) => {
  const ok = { protocol: 'opcua', endpoint: 'opc.tcp://PLC-1/UA/PS', nodePrefix: 'PS01' };
  t.same(opcuaConnectionErrors(ok), []);
  const secure = { ...ok, securityMode: 'SignAndEncrypt', username: 'edge', password: 'x', trustServerCertificate: true };
  t.same(opcuaConnectionErrors(secure), []);
  const cases: Array<[object, string]> = [
    [{ ...ok, endpoint: 'http://plc' }, '/endpoint'],
    [{ ...ok, endpoint: 'opc.tcp://plc:70000' }, '/endpoint'],
    [{ ...ok, securityMode: 'Sign' }, '/securityMode'],
    [{ ...ok, username: 'edge', password: 'x' }, '/username'],
    [{ ...secure, password: undefined }, '/password'],
    [{ ...ok, securityPolicy: 'Basic256Sha256' }, '/securityPolicy'],
    [{ ...ok, trustServerCertificate: true }, '/trustServerCertificate'],
    [{ ...ok, timeout: '0s' }, '/timeout'],
    [{ ...ok, colour: 'red' }, ''],
  ];
  for (const [conn, path] of cases) {
    const problems = opcuaConnectionErrors({ protocol: 'opcua', ...JSON.parse(JSON.stringify(conn)) });
    t.ok(path === '' ? problems.length > 0 : problems.some((p) => p.path === path), `${JSON.stringify(conn)} → ${path || 'refused'}`);
  }
  const r = resolveOpcua(ok, '/var/lib/gridsense/pki');
  t.match(r, { endpoint: 'opc.tcp://plc-1:4840/UA/PS', host: 'plc-1', port: 4840, securityMode: 'None', securityPolicy: 'None', timeoutMs: 5000, samplingIntervalMs: 1000, publishingIntervalMs: 1000, pkiFolder: '/var/lib/gridsense/pki', trustServerCertificate: false });
  t.equal(busIdOf(r), 'bus:opc.tcp://plc-1:4840/UA/PS');
  t.match(resolveOpcua(secure), { securityPolicy: 'Basic256Sha256', username: 'edge', password: 'x' });
  t.equal(linkKey(resolveOpcua({ ...ok, nodePrefix: 'PS02' })), linkKey(resolveOpcua({ ...ok, endpoint: 'opc.tcp://plc-1:4840/UA/PS' })), 'prefix and spelling of the endpoint do not split a link');
  t.not(linkKey(resolveOpcua(secure)), linkKey(resolveOpcua({ ...secure, password: 'y' })), 'another password is another link');
  t.notMatch(linkKey(resolveOpcua(secure)), /\|x\|/, 'the password itself is not in the key');
});
