// A real node-opcua server for driver tests: the pumping-station layout of
// firmware-specs/opcua/pumping-station.md (namespace urn:gridsense:pumping-station, index 2; one folder
// per station prefix) plus whatever variables a test adds. Security None and SignAndEncrypt
// (Basic256Sha256), one user name and password. Its PKI lives in a folder the caller passes, so one
// test file generates certificates once and a restarted server (same port, same folder) presents the
// same certificate.
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import {
  DataType,
  get_mini_nodeset_filename,
  MessageSecurityMode,
  OPCUACertificateManager,
  OPCUAServer,
  SecurityPolicy,
  type StatusCode,
  StatusCodes,
  type UAObject,
  type UAVariable,
  VariantArrayType,
} from 'node-opcua';
import type { ProfilePoint } from '../../contracts/profile.js';

export const PUMPING_STATION_NAMESPACE = 'urn:gridsense:pumping-station';

export interface TestVariable {
  /** Full node id, e.g. `ns=2;s=PS1.SumpLevel`; the namespace must be 1, 2 or 3 (registered on start). */
  nodeId: string;
  browseName: string;
  /** Folder under Objects/PumpingStations holding it (created on demand), e.g. the station prefix. */
  folder?: string;
  dataType: 'Double' | 'Float' | 'Boolean' | 'String' | 'Byte' | 'Int16' | 'UInt16' | 'Int32' | 'UInt32' | 'Int64';
  value: number | boolean | string;
  writable?: boolean;
}

export interface TestServerOptions {
  port: number;
  pkiFolder: string;
  variables: TestVariable[];
  user?: { username: string; password: string };
  /** 'mini' starts several times faster; 'standard' (default) is the full OPC UA nodeset. */
  nodeset?: 'standard' | 'mini';
}

/** One station as device-profiles/generic/opcua-pumping-station.yaml reads it. */
export const PUMP_STATION = (prefix = 'PS1'): TestVariable[] => {
  const v = (name: string, dataType: TestVariable['dataType'], value: number | boolean, writable = false): TestVariable => ({
    nodeId: `ns=2;s=${prefix}.${name}`,
    browseName: name,
    folder: prefix,
    dataType,
    value,
    writable,
  });
  return [
    v('SumpLevel', 'Double', 2.5),
    v('RiverLevel', 'Double', 3.1),
    v('Pump1.Running', 'Boolean', true),
    v('Pump1.Current', 'Float', 85.5),
    v('Pump2.Running', 'Boolean', false),
    v('Pump2.Current', 'Float', 0),
    v('FlowRate', 'Double', 1250),
    v('Gate.Position', 'Float', 40),
    v('Gate.Setpoint', 'Float', 40, true),
    v('Fault', 'Boolean', false),
    v('RemoteMode', 'Boolean', true),
  ];
};

/**
 * Variables serving the points of any OPC UA profile under one node prefix: a number as Double, a
 * boolean as Boolean, a string as String, writable when the point is. For read-back tests of profiles.
 */
export function variablesFor(points: readonly ProfilePoint[], prefix: string, value: (p: ProfilePoint) => number | boolean | string): TestVariable[] {
  return points.flatMap((p) => {
    if (!p.opcua) return [];
    const nodeId = p.opcua.nodeId.replaceAll('{prefix}', prefix);
    const dataType = p.type === 'number' ? 'Double' : p.type === 'boolean' ? 'Boolean' : 'String';
    const browseName = /;s=(.*)$/.exec(nodeId)?.[1]?.replace(`${prefix}.`, '') ?? p.name;
    return [{ nodeId, browseName, folder: prefix, dataType, value: value(p), writable: p.access === 'readwrite' || p.access === 'write' }];
  });
}

export class TestOpcuaServer {
  private server?: OPCUAServer;
  private readonly vars = new Map<string, { variable: UAVariable; dataType: DataType }>();
  /** Every service request the server has received, as `ReadRequest` etc. plus, for reads, the attribute ids. */
  readonly requests: Array<{ type: string; attributeIds?: number[] }> = [];

  constructor(private readonly opts: TestServerOptions) {}

  get endpoint(): string {
    return `opc.tcp://127.0.0.1:${this.opts.port}/UA/PumpStation`;
  }

  get port(): number {
    return this.opts.port;
  }

  async start(): Promise<this> {
    const serverCertificateManager = new OPCUACertificateManager({
      rootFolder: this.opts.pkiFolder,
      // The test server takes any client certificate; the client side is what the driver controls.
      automaticallyAcceptUnknownCertificate: true,
      disableFileWatchers: true,
    });
    const user = this.opts.user;
    const server = new OPCUAServer({
      port: this.opts.port,
      hostname: '127.0.0.1',
      resourcePath: '/UA/PumpStation',
      serverCertificateManager,
      securityModes: [MessageSecurityMode.None, MessageSecurityMode.SignAndEncrypt],
      securityPolicies: [SecurityPolicy.None, SecurityPolicy.Basic256Sha256],
      allowAnonymous: true,
      userManager: { isValidUser: (u: string, p: string) => user !== undefined && u === user.username && p === user.password },
      buildInfo: { productName: 'gridsense-test-pump-station' },
      // The mini nodeset has the types these tests touch and loads in a fraction of the full one's time,
      // but lacks the audit events a client on an unexpected endpoint URL (through a proxy) triggers.
      ...(this.opts.nodeset === 'mini' ? { nodeset_filename: [get_mini_nodeset_filename()] } : {}),
    });
    await server.initialize();
    const addressSpace = server.engine.addressSpace!;
    addressSpace.registerNamespace(PUMPING_STATION_NAMESPACE);
    addressSpace.registerNamespace('urn:gridsense:test:3');
    const own = addressSpace.getOwnNamespace();
    const root = own.addFolder(addressSpace.rootFolder.objects, { browseName: 'PumpingStations' });
    const folders = new Map<string, UAObject>();
    const folderFor = (name?: string) => {
      if (name === undefined) return root;
      let f = folders.get(name);
      if (!f) {
        f = own.addFolder(root, { browseName: name });
        folders.set(name, f);
      }
      return f;
    };
    for (const v of this.opts.variables) {
      const ns = Number(/^ns=(\d+);/.exec(v.nodeId)?.[1] ?? '1');
      const namespace = addressSpace.getNamespace(ns);
      const variable = namespace.addVariable({
        organizedBy: folderFor(v.folder),
        browseName: v.browseName,
        nodeId: v.nodeId.replace(/^ns=\d+;/, ''),
        dataType: v.dataType,
        accessLevel: v.writable ? 'CurrentRead | CurrentWrite' : 'CurrentRead',
        userAccessLevel: v.writable ? 'CurrentRead | CurrentWrite' : 'CurrentRead',
        minimumSamplingInterval: 50,
      });
      variable.setValueFromSource({ dataType: DataType[v.dataType], arrayType: VariantArrayType.Scalar, value: v.dataType === 'Int64' ? int64(v.value as number) : v.value });
      this.vars.set(v.nodeId, { variable, dataType: DataType[v.dataType] });
    }
    server.on('request', (request: { constructor: { name: string }; nodesToRead?: Array<{ attributeId: number }> }) => {
      this.requests.push({ type: request.constructor.name, ...(request.nodesToRead ? { attributeIds: request.nodesToRead.map((n) => n.attributeId) } : {}) });
    });
    await server.start();
    this.server = server;
    return this;
  }

  /** Changes a value as the plant would: subscribers see it on their next sample. */
  set(nodeId: string, value: number | boolean | string): void {
    const v = this.vars.get(nodeId);
    if (!v) throw new Error(`no test variable ${nodeId}`);
    v.variable.setValueFromSource({ dataType: v.dataType, arrayType: VariantArrayType.Scalar, value: v.dataType === DataType.Int64 ? int64(value as number) : value });
  }

  /** The PLC vouches for the value no longer: keeps the value, sets a status such as `BadSensorFailure`. */
  setStatus(nodeId: string, status: keyof typeof StatusCodes): void {
    const v = this.vars.get(nodeId);
    if (!v) throw new Error(`no test variable ${nodeId}`);
    v.variable.setValueFromSource(v.variable.readValue().value, StatusCodes[status] as StatusCode);
  }

  get(nodeId: string): unknown {
    return this.vars.get(nodeId)?.variable.readValue().value.value;
  }

  /** Client sessions the server holds now. */
  get sessionCount(): number {
    return this.server?.engine.currentSessionCount ?? 0;
  }

  /** Subscriptions over all sessions. */
  get subscriptionCount(): number {
    return this.server?.engine.currentSubscriptionCount ?? 0;
  }

  /** How each session is secured and who it logged in as. */
  get sessions(): Array<{ securityMode: string; user?: string }> {
    return (this.server?.engine.getSessions() ?? []).map((s) => {
      const token = s.userIdentityToken as { userName?: string } | undefined;
      return { securityMode: MessageSecurityMode[s.channel?.securityMode ?? MessageSecurityMode.Invalid], ...(token?.userName ? { user: token.userName } : {}) };
    });
  }

  /** Monitored items over all sessions. */
  get monitoredItemCount(): number {
    return (this.server?.engine.getSessions() ?? []).reduce((n, s) => n + s.currentMonitoredItemCount, 0);
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    this.vars.clear();
    // shutdown(0): no grace period to tell clients — the tests want them to notice a dead server.
    if (server) await server.shutdown(0);
  }
}

/** node-opcua carries 64-bit integers as [high, low] 32-bit words. */
function int64(n: number): [number, number] {
  const u = BigInt.asUintN(64, BigInt(n));
  return [Number(u >> 32n), Number(u & 0xffffffffn)];
}

/**
 * A TCP relay in front of the server whose open connections can be frozen: bytes stop flowing both
 * ways but no socket closes — a pulled cable or a dropped NAT entry, which only the missing keep-alives
 * reveal. Connections made after a freeze flow normally.
 */
export class FreezingProxy {
  private server?: Server;
  private readonly pairs: Array<{ client: Socket; upstream: Socket; frozen: boolean }> = [];
  port = 0;

  constructor(private readonly targetPort: number) {}

  async start(): Promise<this> {
    const server = createServer((client) => {
      const upstream = connect({ host: '127.0.0.1', port: this.targetPort });
      const pair = { client, upstream, frozen: false };
      this.pairs.push(pair);
      client.on('data', (b) => pair.frozen || upstream.write(b));
      upstream.on('data', (b) => pair.frozen || client.write(b));
      const end = () => {
        client.destroy();
        upstream.destroy();
      };
      client.on('error', end).on('close', end);
      upstream.on('error', end).on('close', end);
    });
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    this.port = (server.address() as AddressInfo).port;
    return this;
  }

  endpoint(path = '/UA/PumpStation'): string {
    return `opc.tcp://127.0.0.1:${this.port}${path}`;
  }

  /** Stops every connection open now, silently. */
  freeze(): void {
    for (const p of this.pairs) p.frozen = true;
  }

  async stop(): Promise<void> {
    for (const p of this.pairs) {
      p.client.destroy();
      p.upstream.destroy();
    }
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
