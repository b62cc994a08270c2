import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { validateProfiles } from './commands/profiles.js';
import { addRulesBacktestCommand, validateRules } from './commands/rules.js';
import { cloudRequest, cloudTarget } from './http-client.js';
import { addDevicesCommands } from './commands/devices.js';
import { addEdgeEnrollCommand, addEdgesCommands } from './commands/edges.js';
import { addFleetCommands } from './commands/fleet.js';
import { addFirmwareCommands } from './commands/firmware.js';
import { addEdgeSuperviseCommand } from './commands/edge-supervise.js';
import { addNodeRedCommands } from './commands/node-red.js';

/** The whole `gridsense` command tree (cli/main.ts parses process.argv with it; tests run it in-process). */
export function buildProgram(): Command {
  const program = new Command();
  program
    .name('gridsense')
    .description('IoT edge gateway and device management for grid-based social governance (网格化社会治理)')
    .showHelpAfterError();

  program
    .command('cloud')
    .description('run the county cloud service (Fastify; SQLite by default, or PostgreSQL)')
    .option('-p, --port <port>', 'port to listen on (env PORT)', process.env.PORT ?? '8080')
    .option('--host <host>', 'address to bind (env HOST)', process.env.HOST ?? '127.0.0.1')
    .option('--db <path or url>', 'SQLite file or postgres:// URL (env GRIDSENSE_DB)', process.env.GRIDSENSE_DB)
    .action(async (o: { port: string; host: string; db?: string }) => {
      const { startCloud } = await import('../cloud/server.js');
      const cloud = await startCloud({ port: Number(o.port), host: o.host, db: o.db, logger: true });
      process.stdout.write(`gridsense cloud listening on ${cloud.url} (API docs ${cloud.url}/docs)\n`);
      const stop = async () => {
        await cloud.close();
        process.exit(0);
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });

  const edgeCommand = program
    .command('edge')
    .description('run a town edge agent (or enroll this box: gridsense edge enroll <url> <token>)')
    // Not requiredOption: commander would then demand it of `edge enroll` too.
    .option('-c, --config <file>', 'edge.yaml (required)')
    .option('--check', 'validate the config (and its profiles and rules) and exit')
    .option('--no-watch', 'do not apply edits of edge.yaml, rule files and profiles while running')
    .action(async (o: { config?: string; check?: boolean; watch: boolean }) => {
      if (!o.config) edgeCommand.error("error: required option '-c, --config <file>' not specified");
      const { loadEdgeConfig } = await import('../edge/config.js');
      const config = loadEdgeConfig(o.config!);
      if (o.check) {
        process.stdout.write(`✓ ${o.config}: edge ${config.edge.id}, ${config.devices.length} device(s)\n`);
        return;
      }
      const { runEdge } = await import('../edge/run-edge.js');
      await runEdge(o.config!, { watch: o.watch });
    });
  addEdgeEnrollCommand(edgeCommand);
  addEdgeSuperviseCommand(edgeCommand);
  addNodeRedCommands(program, edgeCommand);

  const profiles = program.command('profiles').description('device profiles (one YAML per model)');
  profiles
    .command('validate')
    .description('validate profile files or folders; every problem is reported with its path')
    .argument('<files...>')
    .action((files: string[]) => {
      process.exitCode = validateProfiles(files, (l) => process.stdout.write(`${l}\n`));
    });

  profiles
    .command('schema')
    .description('print the profile JSON Schema (for editors; device-profiles/profile.schema.json is a copy)')
    .action(async () => {
      const { profileJsonSchema } = await import('../device-profiles/json-schema.js');
      process.stdout.write(`${JSON.stringify(profileJsonSchema(), null, 2)}\n`);
    });

  const rules = program.command('rules').description('rule files');
  rules
    .command('validate')
    .description('validate rule files; errors name the file, rule and field')
    .argument('<files...>')
    .action(async (files: string[]) => {
      process.exitCode = await validateRules(files, (l) => process.stdout.write(`${l}\n`));
    });
  addRulesBacktestCommand(rules);

  const withCloud = (c: Command) =>
    c
      .option('--cloud <url>', 'cloud URL (env GRIDSENSE_CLOUD_URL)')
      .option('--admin-token <token>', 'admin token (env GRIDSENSE_ADMIN_TOKEN)');

  const edges = program.command('edges').description('town edges registered with the cloud');
  withCloud(edges.command('create'))
    .description('register an edge and print its token (shown once)')
    .argument('<id>')
    .option('--name <name>')
    .action(async (id: string, o: { cloud?: string; adminToken?: string; name?: string }) => {
      const res = await cloudRequest<{ id: string; token: string }>(cloudTarget(o), 'POST', '/api/v1/edges', { id, name: o.name ?? id });
      process.stdout.write(`edge ${res.id}\ntoken ${res.token}\n(put the token in the edge's edge.yaml under cloud.token; it is not shown again)\n`);
    });
  withCloud(edges.command('list'))
    .description('list edges: status, town, last heartbeat, configuration versions')
    .action(async (o: { cloud?: string; adminToken?: string }) => {
      const res = await cloudRequest<{ items: Array<{ id: string; name: string; status: string; townId: string | null; lastHeartbeatAt: string | null; config: { desiredVersion: number; appliedVersion: number | null } }> }>(cloudTarget(o), 'GET', '/api/v1/edges');
      for (const e of res.items) process.stdout.write(`${[e.id, e.name, e.status, e.townId ?? '-', e.lastHeartbeatAt ?? 'never', `config ${e.config.appliedVersion ?? '-'}/${e.config.desiredVersion}`].join('\t')}\n`);
    });
  addEdgesCommands(edges);
  addDevicesCommands(program);
  addFleetCommands(program);
  addFirmwareCommands(program);

  const grids = program.command('grids').description('governance grids');
  withCloud(grids.command('import'))
    .description('import a GeoJSON FeatureCollection of grid polygons')
    .argument('<file>')
    .action(async (file: string, o: { cloud?: string; adminToken?: string }) => {
      const body = JSON.parse(readFileSync(file, 'utf8')) as unknown;
      const res = await cloudRequest<{ imported: number }>(cloudTarget(o), 'POST', '/api/v1/grids/import', body);
      process.stdout.write(`imported ${res.imported} grid(s) from ${file}\n`);
    });

  const apiKeys = program.command('api-keys').description('API keys for people and the governance platform');
  withCloud(apiKeys.command('create'))
    .description('issue a key (shown once): --role admin|dispatcher|technician|integrator|auditor, --town to bind it to one town')
    .argument('<name>')
    .requiredOption('--role <role>')
    .option('--town <townId>')
    .action(async (name: string, o: { cloud?: string; adminToken?: string; role: string; town?: string }) => {
      const res = await cloudRequest<{ id: string; key: string; role: string; townId: string | null }>(cloudTarget(o), 'POST', '/api/v1/api-keys', { name, role: o.role, ...(o.town ? { townId: o.town } : {}) });
      process.stdout.write(`key ${res.id} (${res.role}${res.townId ? `, town ${res.townId}` : ''})\n${res.key}\n(shown once; send it as Authorization: Bearer <key>)\n`);
    });
  withCloud(apiKeys.command('list'))
    .description('list keys (never the keys themselves)')
    .action(async (o: { cloud?: string; adminToken?: string }) => {
      const res = await cloudRequest<{ items: Array<{ id: string; name: string; role: string; townId: string | null; revokedAt: string | null }> }>(cloudTarget(o), 'GET', '/api/v1/api-keys');
      for (const k of res.items) process.stdout.write(`${k.id}\t${k.name}\t${k.role}\t${k.townId ?? '-'}\t${k.revokedAt ? `revoked ${k.revokedAt}` : 'live'}\n`);
    });
  withCloud(apiKeys.command('revoke'))
    .description('revoke a key; it stops working at once')
    .argument('<id>')
    .action(async (id: string, o: { cloud?: string; adminToken?: string }) => {
      await cloudRequest(cloudTarget(o), 'DELETE', `/api/v1/api-keys/${encodeURIComponent(id)}`);
      process.stdout.write(`revoked ${id}\n`);
    });

  program
    .command('mqtt-password')
    .description("hash a device's MQTT password for edge.yaml (connection.passwordHash); reads it from stdin")
    .action(async () => {
      const chunks: Buffer[] = [];
      for await (const c of process.stdin) chunks.push(c as Buffer);
      const password = Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
      if (!password) throw new Error('no password on stdin (echo -n secret | gridsense mqtt-password)');
      const { hashPassword } = await import('../edge/broker/password.js');
      process.stdout.write(`${await hashPassword(password)}\n`);
    });

  program
    .command('demo')
    .description('cloud + one edge + simulated devices on embedded defaults (what `npm start` runs)')
    .option('-p, --port <port>', 'cloud port (env PORT)', process.env.PORT ?? '8080')
    .option('--data <dir>', 'where the demo keeps its files', './data/demo')
    .action(async (o: { port: string; data: string }) => {
      const { runDemo } = await import('../demo/run-demo.js');
      await runDemo({ port: Number(o.port), dataDir: o.data });
    });

  const cameras = program.command('cameras').description('network cameras (ONVIF, RTSP)');
  cameras
    .command('discover')
    .description('find ONVIF cameras (WS-Discovery): one line per camera — address, model, name, device-service URLs, endpoint id')
    .option('--timeout <duration>', 'how long to listen for answers (e.g. 3s, 1500ms)', '3s')
    .option('--interface <ip>', "IPv4 address of this machine's interface facing the cameras (default: the system's choice)")
    .option('--target <host[:port]>', 'probe one address by unicast instead of the multicast group 239.255.255.250:3702 (a camera behind a router)')
    .option('--json', 'print the answers as JSON')
    .action(async (o: { timeout: string; interface?: string; target?: string; json?: boolean }) => {
      const { GsError } = await import('../contracts/errors.js');
      const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m)?\s*$/.exec(o.timeout);
      if (!m) throw new GsError('GS_ERR_VALIDATION', `--timeout "${o.timeout}" is not a duration (e.g. 3s, 1500ms)`);
      const timeoutMs = Number(m[1]) * { ms: 1, s: 1000, m: 60_000 }[(m[2] ?? 's') as 'ms' | 's' | 'm'];
      const { discoverCameras } = await import('../edge/cameras/onvif/discovery.js');
      const found = await discoverCameras({ timeoutMs, ...(o.interface ? { interface: o.interface } : {}), ...(o.target ? { target: o.target } : {}) });
      if (o.json) {
        process.stdout.write(`${JSON.stringify(found, null, 2)}\n`);
        return;
      }
      for (const c of found) process.stdout.write(`${c.address}\t${c.model ?? '-'}\t${c.name ?? '-'}\t${c.xaddrs.join(' ') || '-'}\t${c.endpoint || '-'}\n`);
      const where = o.target ?? '239.255.255.250:3702';
      process.stderr.write(found.length > 0 ? `${found.length} camera(s) answered a probe to ${where}\n` : `no ONVIF camera answered a probe to ${where} within ${o.timeout}\n`);
    });
  return program;
}
