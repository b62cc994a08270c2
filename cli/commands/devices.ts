// `gridsense devices add|import|list|show|move|disable|enable|decommission|set|claim|mqtt-secret`:
// the device registry from a technician's terminal.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { GsError } from '../../contracts/errors.js';
import { ago, api, shortTime, withApi, type ApiOptions } from './api.js';

const out = (s: string) => process.stdout.write(`${s}\n`);
const collect = (v: string, prior: string[] = []) => [...prior, v];

interface Device {
  id: string;
  name: string;
  profile: string;
  kind: string | null;
  edgeId: string;
  protocol: string;
  connection: Record<string, unknown>;
  serial: string | null;
  location: { lon: number; lat: number } | null;
  gridId: string | null;
  townId: string | null;
  site: string | null;
  tags: string[];
  pollInterval: unknown;
  overrides: unknown;
  status: string;
  claimCode: string | null;
  claimedAt: string | null;
  health: { status: string; reported: string | null; since: string | null; lastSeenAt: string | null; lastError: string | null; batteryPercent: number | null; edgeOnline: boolean };
  mqtt?: { username: string; password: string; topicRoot: string };
}

export function describeDevice(d: Device, now: number): string[] {
  const h = d.health;
  const lines = [
    `device ${d.id} (${d.name}): ${d.status}, ${h.status}${h.since ? ` since ${shortTime(h.since)}` : ''}`,
    `  profile    ${d.profile}${d.kind ? ` (${d.kind})` : ''}${d.serial ? `   serial ${d.serial}` : ''}`,
    `  edge       ${d.edgeId}${h.edgeOnline ? '' : ' (edge silent)'}   ${d.protocol} ${JSON.stringify(d.connection)}`,
    `  place      ${d.location ? `${d.location.lon}, ${d.location.lat}` : 'no location'}   grid ${d.gridId ?? '-'}   town ${d.townId ?? '-'}${d.site ? `   site ${d.site}` : ''}`,
    `  health     last seen ${h.lastSeenAt ? `${shortTime(h.lastSeenAt)} (${ago(h.lastSeenAt, now)})` : 'never'}${h.lastError ? `   last error ${h.lastError}` : ''}${h.batteryPercent !== null ? `   battery ${h.batteryPercent}%` : ''}`,
    `  label      ${d.claimCode ? `claim code ${d.claimCode}` : d.claimedAt ? `claimed ${shortTime(d.claimedAt)}` : '-'}`,
  ];
  if (d.tags.length > 0) lines.push(`  tags       ${d.tags.join(', ')}`);
  if (d.overrides) lines.push(`  overrides  ${JSON.stringify(d.overrides)}`);
  if (d.mqtt) lines.push(`  MQTT login ${d.mqtt.username} / ${d.mqtt.password}   topics ${d.mqtt.topicRoot}#   (the password is shown this once)`);
  return lines;
}

function location(o: { lon?: string; lat?: string }): { lon: number; lat: number } | undefined {
  if (o.lon === undefined && o.lat === undefined) return undefined;
  const lon = Number(o.lon);
  const lat = Number(o.lat);
  if (o.lon === undefined || o.lat === undefined || !Number.isFinite(lon) || !Number.isFinite(lat)) {
    throw new GsError('GS_ERR_VALIDATION', 'give --lon and --lat together, as numbers', [{ path: '/location', message: `got ${o.lon}, ${o.lat}` }]);
  }
  return { lon, lat };
}

function json(what: string, text: string): Record<string, unknown> {
  try {
    const v = JSON.parse(text) as unknown;
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // below
  }
  throw new GsError('GS_ERR_VALIDATION', `${what} must be a JSON object`, [{ path: `/${what}`, message: text }]);
}

const num = (v: string | undefined) => (v === undefined ? undefined : /^\d+$/.test(v) ? Number(v) : v);

export function addDevicesCommands(program: Command): void {
  const devices = program.command('devices').description('the device registry: register, import, find, move, disable');

  withApi(devices.command('add'))
    .description('register a device on an edge (its connection from --protocol/--host/--port/--unit-id, or --connection JSON)')
    .argument('<id>')
    .requiredOption('--profile <id>', 'device profile, e.g. generic/radar-water-level-gauge')
    .requiredOption('--edge <id>')
    .option('--name <name>')
    .option('--protocol <protocol>', 'modbus-tcp, modbus-rtu, modbus-rtu-tcp, mqtt, opcua')
    .option('--host <host>')
    .option('--port <port>', 'TCP port, or the serial device for modbus-rtu')
    .option('--unit-id <n>')
    .option('--connection <json>', 'the whole connection block as JSON')
    .option('--lon <lon>')
    .option('--lat <lat>')
    .option('--site <site>')
    .option('--serial <serial>')
    .option('--tag <tag>', 'repeatable', collect)
    .option('--poll-interval <duration>', 'e.g. 10s')
    .option('--disabled', 'register without handing it to the edge yet')
    .action(async (id: string, o: ApiOptions & Record<string, string | string[] | boolean | undefined>) => {
      const s = (k: string) => o[k] as string | undefined;
      const conn: Record<string, unknown> = s('connection') ? json('connection', s('connection')!) : {};
      if (s('protocol')) conn.protocol = s('protocol');
      if (s('host')) conn.host = s('host');
      if (s('port')) conn.port = conn.protocol === 'modbus-rtu' ? s('port') : num(s('port'));
      if (s('unitId')) conn.unitId = num(s('unitId'));
      const loc = location({ lon: s('lon'), lat: s('lat') });
      const body = {
        id,
        profile: s('profile'),
        edge: s('edge'),
        connection: conn,
        ...(s('name') ? { name: s('name') } : {}),
        ...(loc ? { location: loc } : {}),
        ...(s('site') ? { site: s('site') } : {}),
        ...(s('serial') ? { serial: s('serial') } : {}),
        ...(o.tag ? { tags: o.tag } : {}),
        ...(s('pollInterval') ? { pollInterval: s('pollInterval') } : {}),
        ...(o.disabled ? { disabled: true } : {}),
      };
      for (const l of describeDevice(await api<Device>(o, 'POST', '/api/v1/devices', body), Date.now())) out(l);
    });

  withApi(devices.command('import'))
    .description('register devices from a CSV file; a file with errors imports nothing unless --partial')
    .argument('<file>', 'CSV: header id,name,profile,edge,protocol,host,port,unitId,…,lon,lat,site,tags')
    .option('--partial', 'import the good lines, report the others')
    .option('--dry-run', 'check only')
    .action(async (file: string, o: ApiOptions & { partial?: boolean; dryRun?: boolean }) => {
      const csv = readFileSync(file, 'utf8');
      const q = [o.partial ? 'partial=true' : '', o.dryRun ? 'dryRun=true' : ''].filter(Boolean).join('&');
      try {
        const r = await api<{ imported: number; dryRun: boolean; devices: Array<{ id: string; line: number; claimCode: string; mqtt?: { username: string; password: string } }>; failed: Array<{ line: number; id: string | null; errors: Array<{ path: string; message: string }> }> }>(
          o,
          'POST',
          `/api/v1/devices/import${q ? `?${q}` : ''}`,
          csv,
          'text/csv',
        );
        out(r.dryRun ? `${file}: every line is valid (dry run, nothing imported)` : `${file}: imported ${r.imported} device(s)`);
        for (const d of r.devices) out(`  line ${d.line}\t${d.id}\tclaim ${d.claimCode}${d.mqtt ? `\tMQTT ${d.mqtt.username} / ${d.mqtt.password}` : ''}`);
        if (r.devices.some((d) => d.mqtt)) out('  (MQTT passwords are shown this once)');
        for (const f of r.failed) for (const e of f.errors) out(`✗ line ${f.line}${f.id ? ` (${f.id})` : ''}: ${e.path || '/'}: ${e.message}`);
        if (r.failed.length > 0) process.exitCode = 1;
      } catch (err) {
        if (!(err instanceof GsError) || err.code !== 'GS_ERR_IMPORT_INVALID') throw err;
        out(`✗ ${file}: ${err.message}`);
        for (const d of err.details) {
          const m = /^\/rows\/(\d+)(.*)$/.exec(d.path);
          out(m ? `  line ${m[1]}: ${m[2] || '/'}: ${d.message}` : `  ${d.path}: ${d.message}`);
        }
        process.exitCode = 2;
      }
    });

  withApi(devices.command('list'))
    .description('list devices (id order); --all follows every page')
    .option('--edge <id>')
    .option('--town <id>')
    .option('--grid <id>')
    .option('--profile <id>')
    .option('--status <status>', 'active, disabled, decommissioned')
    .option('--health <health>', 'online, offline, unknown, starting')
    .option('--tag <tag>')
    .option('--limit <n>', 'page size', '100')
    .option('--all')
    .action(async (o: ApiOptions & { edge?: string; town?: string; grid?: string; profile?: string; status?: string; health?: string; tag?: string; limit: string; all?: boolean }) => {
      const params = new URLSearchParams();
      for (const k of ['edge', 'town', 'grid', 'profile', 'status', 'health', 'tag'] as const) if (o[k]) params.set(k, o[k]!);
      params.set('limit', o.limit);
      let cursor: string | null = null;
      let n = 0;
      do {
        if (cursor) params.set('cursor', cursor);
        const page: { items: Device[]; nextCursor: string | null } = await api(o, 'GET', `/api/v1/devices?${params.toString()}`);
        for (const d of page.items) {
          n++;
          out([d.id, d.status, d.health.status, d.edgeId, d.townId ?? '-', d.profile, d.name].join('\t'));
        }
        cursor = page.nextCursor;
      } while (cursor && o.all);
      if (cursor) out(`… more: --all`);
      else if (n === 0) out('no devices');
    });

  withApi(devices.command('show'))
    .description('one device: where, which edge, health, last seen, claim code')
    .argument('<id>')
    .action(async (id: string, o: ApiOptions) => {
      for (const l of describeDevice(await api<Device>(o, 'GET', `/api/v1/devices/${encodeURIComponent(id)}`), Date.now())) out(l);
    });

  withApi(devices.command('move'))
    .description('move a device: --lon/--lat (new grid and town), --site, or --edge')
    .argument('<id>')
    .option('--edge <id>')
    .option('--lon <lon>')
    .option('--lat <lat>')
    .option('--site <site>')
    .action(async (id: string, o: ApiOptions & { edge?: string; lon?: string; lat?: string; site?: string }) => {
      const loc = location(o);
      const d = await api<Device>(o, 'POST', `/api/v1/devices/${encodeURIComponent(id)}/move`, { ...(o.edge ? { edge: o.edge } : {}), ...(loc ? { location: loc } : {}), ...(o.site ? { site: o.site } : {}) });
      out(`${d.id}: edge ${d.edgeId}, grid ${d.gridId ?? '-'}, town ${d.townId ?? '-'}`);
    });

  for (const [step, what] of [
    ['disable', 'stop polling a device (it stays registered)'],
    ['enable', 'poll a disabled device again'],
    ['decommission', 'take a device out for good'],
  ] as const) {
    withApi(devices.command(step))
      .description(what)
      .argument('<id>')
      .action(async (id: string, o: ApiOptions) => {
        const d = await api<Device>(o, 'POST', `/api/v1/devices/${encodeURIComponent(id)}/${step}`);
        out(`${d.id}: ${d.status}`);
      });
  }

  withApi(devices.command('set'))
    .description("change a device: --override '<rule>={json}' (repeatable; '<rule>=null' drops one), --name, --tag, --poll-interval")
    .argument('<id>')
    .option('--override <rule=json>', 'e.g. water-level-warning={"above":3.2,"clearBelow":3.0}', collect)
    .option('--clear-overrides')
    .option('--name <name>')
    .option('--tag <tag>', 'replaces the tags; repeatable', collect)
    .option('--poll-interval <duration>')
    .action(async (id: string, o: ApiOptions & { override?: string[]; clearOverrides?: boolean; name?: string; tag?: string[]; pollInterval?: string }) => {
      const body: Record<string, unknown> = {};
      if (o.override || o.clearOverrides) {
        const current = o.clearOverrides ? {} : (((await api<Device>(o, 'GET', `/api/v1/devices/${encodeURIComponent(id)}`)).overrides ?? {}) as Record<string, unknown>);
        for (const spec of o.override ?? []) {
          const eq = spec.indexOf('=');
          if (eq < 1) throw new GsError('GS_ERR_VALIDATION', `--override ${spec}: expected <rule id>={json}`);
          const rule = spec.slice(0, eq);
          const value = spec.slice(eq + 1);
          if (value === 'null') delete current[rule];
          else current[rule] = json(`overrides/${rule}`, value);
        }
        body.overrides = Object.keys(current).length > 0 ? current : null;
      }
      if (o.name) body.name = o.name;
      if (o.tag) body.tags = o.tag;
      if (o.pollInterval) body.pollInterval = num(o.pollInterval);
      const d = await api<Device>(o, 'PATCH', `/api/v1/devices/${encodeURIComponent(id)}`, body);
      out(`${d.id}: updated${d.overrides ? `; overrides ${JSON.stringify(d.overrides)}` : ''}`);
    });

  withApi(devices.command('claim'))
    .description('on site: claim a device with the code on its label and set where it is')
    .argument('<code>')
    .requiredOption('--lon <lon>')
    .requiredOption('--lat <lat>')
    .option('--site <site>')
    .action(async (code: string, o: ApiOptions & { lon: string; lat: string; site?: string }) => {
      const loc = location(o)!;
      const d = await api<Device>(o, 'POST', '/api/v1/devices/claim', { code, ...loc, ...(o.site ? { site: o.site } : {}) });
      out(`claimed ${d.id} (${d.name}): grid ${d.gridId ?? '-'}, town ${d.townId ?? '-'}`);
    });

  withApi(devices.command('mqtt-secret'))
    .description("a new MQTT password for a device on its edge's broker (shown once)")
    .argument('<id>')
    .action(async (id: string, o: ApiOptions) => {
      const r = await api<{ mqtt: { username: string; password: string; topicRoot: string } }>(o, 'POST', `/api/v1/devices/${encodeURIComponent(id)}/mqtt-credentials`);
      out(`${id}: MQTT login ${r.mqtt.username} / ${r.mqtt.password}   topics ${r.mqtt.topicRoot}#   (shown this once)`);
    });
}
