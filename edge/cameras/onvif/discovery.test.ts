// WS-Discovery against the ONVIF simulator's responder (test/helpers/onvif-sim/discovery.ts), on
// loopback only: the Probe goes by unicast to 127.0.0.1:<its port>, never to the multicast group.
import { createSocket } from 'node:dgram';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import t, { type Test } from 'tap';
import { OnvifSimulator } from '../../../test/helpers/onvif-sim/index.js';
import { freePort } from '../../../test/helpers/services.js';
import { waitFor } from '../../../test/helpers/wait.js';
import { OnvifCamera } from './camera.js';
import { discoverCameras, parseTarget, probeMessage, readProbeMatches } from './discovery.js';

const PASSWORD = 'Gr1d-Sense!';
const BIN = fileURLToPath(new URL('../../../bin/gridsense.js', import.meta.url));

async function sim(t: Test, o: ConstructorParameters<typeof OnvifSimulator>[0] = {}): Promise<OnvifSimulator> {
  const s = await new OnvifSimulator({ password: PASSWORD, discovery: true, ...o }).start();
  t.teardown(() => s.stop());
  return s;
}

/** Sends one datagram to the responder from a socket of its own. */
async function sendRaw(port: number, text: string): Promise<void> {
  const s = createSocket('udp4');
  await new Promise<void>((resolve) => s.send(Buffer.from(text), port, '127.0.0.1', () => resolve()));
  s.close();
}

t.test('a unicast Probe finds the camera: address, model, name, XAddrs, endpoint; its XAddr connects', async (t) => {
  const hik = await sim(t, { vendor: 'hikvision', name: 'Gate 3 东门' });
  const found = await discoverCameras({ target: `127.0.0.1:${hik.discoveryPort}`, timeoutMs: 500 });
  t.equal(found.length, 1, 'one answer, though the Probe went out twice');
  t.match(found[0], {
    address: '127.0.0.1',
    endpoint: hik.endpoint,
    model: 'DS-2CD2T47G2-L',
    name: 'Gate 3 东门',
    xaddrs: [hik.deviceUrl],
    types: ['dn:NetworkVideoTransmitter', 'tds:Device'],
  });
  t.ok(found[0]!.scopes.includes('onvif://www.onvif.org/Profile/Streaming'));
  t.equal(found[0]!.location, 'country/china');
  t.equal(hik.discovery!.probes.filter((p) => p.matched).length, 2, 'the responder saw both copies of the Probe');

  // What discovery found is what the edge connects to.
  const url = new URL(found[0]!.xaddrs[0]!);
  const cam = new OnvifCamera({ host: url.hostname, port: Number(url.port), path: url.pathname, username: 'admin', password: PASSWORD, timeoutMs: 3000 });
  t.teardown(() => cam.close());
  t.match(await cam.deviceInformation(), { manufacturer: 'HIKVISION', model: found[0]!.model });
});

t.test('cameras on two ports answer their own probes; a Dahua-like one too', async (t) => {
  const [a, b] = await Promise.all([sim(t, { vendor: 'onvif' }), sim(t, { vendor: 'dahua' })]);
  const [fa, fb] = await Promise.all([a, b].map((s) => discoverCameras({ target: `127.0.0.1:${s.discoveryPort}`, timeoutMs: 400 })));
  t.same(fa!.map((c) => [c.endpoint, c.model, c.name]), [[a.endpoint, 'SIM-1', 'ONVIF Simulator']]);
  t.same(fb!.map((c) => [c.endpoint, c.model, c.name]), [[b.endpoint, 'IPC-HFW2431S-S-S2', 'Dahua']]);
  t.not(a.endpoint, b.endpoint);
});

t.test('nobody there: an empty list after the timeout, no crash (ICMP port unreachable is swallowed)', async (t) => {
  const port = await freePort();
  t.same(await discoverCameras({ target: `127.0.0.1:${port}`, timeoutMs: 300 }), []);
});

t.test('the responder answers only Probes for cameras, ignores garbage, and keeps answering', async (t) => {
  const s = await sim(t);
  await sendRaw(s.discoveryPort, 'not xml at all <<<');
  await sendRaw(s.discoveryPort, '<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>');
  await sendRaw(s.discoveryPort, probeMessage('urn:uuid:printer-probe').replace('dn:NetworkVideoTransmitter', 'p:Printer').replace('xmlns:dn=', 'xmlns:p="urn:printers" xmlns:dn='));
  await sendRaw(s.discoveryPort, probeMessage('urn:uuid:scoped').replace('</d:Types>', '</d:Types><d:Scopes>onvif://www.onvif.org/hardware/OTHER</d:Scopes>'));
  await waitFor('all four datagrams', () => (s.discovery!.ignored + s.discovery!.probes.length >= 4 ? true : undefined), 5000, 20);
  t.equal(s.discovery!.ignored, 2, 'garbage and a DOCTYPE are not Probes');
  t.match(s.discovery!.probes, [
    { matched: false, why: /types p:Printer do not match/ },
    { matched: false, why: /scope onvif:\/\/www\.onvif\.org\/hardware\/OTHER does not match/ },
  ]);
  const found = await discoverCameras({ target: `127.0.0.1:${s.discoveryPort}`, timeoutMs: 300 });
  t.equal(found.length, 1, 'a proper Probe is still answered');
  // A scope the camera has (a segment-wise prefix) matches.
  await sendRaw(s.discoveryPort, probeMessage('urn:uuid:scoped-ok').replace('</d:Types>', '</d:Types><d:Scopes>onvif://www.onvif.org/hardware</d:Scopes>'));
  await waitFor('the scoped probe', () => s.discovery!.probes.find((p) => p.messageId === 'urn:uuid:scoped-ok'), 5000, 20);
  t.equal(s.discovery!.probes.find((p) => p.messageId === 'urn:uuid:scoped-ok')!.matched, true);
});

t.test('answers to someone else\'s probe, or that are not ProbeMatches, are not ours', async (t) => {
  const reply = (relatesTo: string, action = 'http://schemas.xmlsoap.org/ws/2005/04/discovery/ProbeMatches') =>
    '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery">' +
    `<s:Header><a:Action>${action}</a:Action><a:RelatesTo>${relatesTo}</a:RelatesTo></s:Header>` +
    '<s:Body><d:ProbeMatches><d:ProbeMatch><a:EndpointReference><a:Address>urn:uuid:x</a:Address></a:EndpointReference>' +
    '<d:Scopes>onvif://www.onvif.org/hardware/IPC%20Model%201 onvif://www.onvif.org/name/%E4%B8%9C%E9%97%A8</d:Scopes><d:XAddrs>http://10.0.0.9/onvif/device_service</d:XAddrs></d:ProbeMatch></d:ProbeMatches></s:Body></s:Envelope>';
  t.match(readProbeMatches(reply('urn:uuid:mine'), 'urn:uuid:mine', '10.0.0.9'), [{ address: '10.0.0.9', endpoint: 'urn:uuid:x', model: 'IPC Model 1', name: '东门', xaddrs: ['http://10.0.0.9/onvif/device_service'] }], 'scopes are percent-decoded');
  t.same(readProbeMatches(reply('urn:uuid:theirs'), 'urn:uuid:mine', '10.0.0.9'), []);
  t.same(readProbeMatches(reply('urn:uuid:mine', 'http://schemas.xmlsoap.org/ws/2005/04/discovery/Hello'), 'urn:uuid:mine', '10.0.0.9'), []);
  t.same(readProbeMatches('<x', 'urn:uuid:mine', '10.0.0.9'), []);
});

t.test('bad arguments are clear errors', async (t) => {
  t.same(parseTarget(undefined), { host: '239.255.255.250', port: 3702 }, 'the multicast group by default');
  t.same(parseTarget('192.168.1.64'), { host: '192.168.1.64', port: 3702 });
  await t.rejects(discoverCameras({ target: 'camera.local:3702' }), { code: 'GS_ERR_VALIDATION', message: /not an IPv4 address/ });
  await t.rejects(discoverCameras({ target: '127.0.0.1:70000' }), { code: 'GS_ERR_VALIDATION' });
  await t.rejects(discoverCameras({ target: '127.0.0.1:3702', interface: '203.0.113.77', timeoutMs: 100 }), { code: 'GS_ERR_VALIDATION', message: /not an address of this machine/ });
  await t.rejects(discoverCameras({ timeoutMs: 0 }), { code: 'GS_ERR_VALIDATION' });
});

t.test('gridsense cameras discover --target (a child process, as an installer runs it)', async (t) => {
  const s = await sim(t, { vendor: 'hikvision' });
  const run = (args: string[]) =>
    new Promise<{ code: number; out: string; err: string }>((resolve) => {
      execFile(process.execPath, [BIN, 'cameras', 'discover', ...args], { timeout: 60_000 }, (error, out, err) => resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, out, err }));
    });
  const ok = await run(['--target', `127.0.0.1:${s.discoveryPort}`, '--timeout', '500ms', '--interface', '127.0.0.1']);
  t.equal(ok.code, 0, ok.err);
  t.equal(ok.out, `127.0.0.1\tDS-2CD2T47G2-L\tHIKVISION\t${s.deviceUrl}\t${s.endpoint}\n`);
  t.match(ok.err, /1 camera\(s\) answered a probe to 127\.0\.0\.1:\d+/);
  const json = await run(['--target', `127.0.0.1:${s.discoveryPort}`, '--timeout', '300ms', '--json']);
  t.match(JSON.parse(json.out), [{ endpoint: s.endpoint, xaddrs: [s.deviceUrl] }]);
  const bad = await run(['--timeout', 'soon']);
  t.equal(bad.code, 2);
  t.match(bad.err, /GS_ERR_VALIDATION: --timeout "soon" is not a duration/);
});
