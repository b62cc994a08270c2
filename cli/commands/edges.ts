// `gridsense edges enroll-token|show|revoke|rules` (admin, against the cloud) and, on the edge box,
// `gridsense edge enroll <url> <token>`: trades the token for the edge's own and writes edge.yaml.
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { stringify as toYaml } from 'yaml';
import { GsError } from '../../contracts/errors.js';
import { ago, api, duration, shortTime, withApi, type ApiOptions } from './api.js';

const out = (s: string) => process.stdout.write(`${s}\n`);

export interface EdgeView {
  id: string;
  name: string;
  townId: string | null;
  status: string;
  lastHeartbeatAt: string | null;
  uptimeSeconds: number | null;
  version: string | null;
  outboxDepth: number | null;
  enrolledAt: string | null;
  revokedAt: string | null;
  config: { desiredVersion: number; appliedVersion: number | null; inSync: boolean; rules: string[]; lastReport: { version: number; applied: boolean; at: string; error?: { code: string; message: string; details?: Array<{ path: string; message: string }> } } | null };
  devices: { total: number; active: number; disabled: number; online: number; offline: number; unknown: number };
}

export function describeEdge(e: EdgeView, now: number): string[] {
  const lines = [
    `edge ${e.id} (${e.name})${e.townId ? `, town ${e.townId}` : ''}: ${e.status}`,
    `  heartbeat  ${e.lastHeartbeatAt ? `${shortTime(e.lastHeartbeatAt)} (${ago(e.lastHeartbeatAt, now)})` : 'never'}   up ${duration(e.uptimeSeconds)}   version ${e.version ?? '-'}   outbox ${e.outboxDepth ?? '-'}`,
    `  enrolled   ${e.enrolledAt ? shortTime(e.enrolledAt) : 'not yet'}${e.revokedAt ? `   REVOKED ${shortTime(e.revokedAt)}` : ''}`,
    `  devices    ${e.devices.active} active: ${e.devices.online} online, ${e.devices.offline} offline, ${e.devices.unknown} unknown; ${e.devices.disabled} disabled`,
    `  config     desired v${e.config.desiredVersion}, applied ${e.config.appliedVersion === null ? '-' : `v${e.config.appliedVersion}`}${e.config.inSync ? ' (in sync)' : ''}; rules: ${e.config.rules.join(', ') || '-'}`,
  ];
  const r = e.config.lastReport;
  if (r && !r.applied && r.error) {
    lines.push(`  REJECTED   v${r.version} at ${shortTime(r.at)}: ${r.error.code}: ${r.error.message}`);
    for (const d of r.error.details ?? []) lines.push(`             ${d.path || '/'}: ${d.message}`);
  }
  return lines;
}

export function addEdgesCommands(edges: Command): void {
  withApi(edges.command('enroll-token'))
    .description('issue a one-time enrollment token for an edge (admin); registers the edge when new')
    .argument('<edgeId>')
    .option('--name <name>')
    .option('--town <townId>', 'the town-level grid it serves')
    .option('--ttl-hours <hours>', 'how long the token lives (default 24)')
    .action(async (edgeId: string, o: ApiOptions & { name?: string; town?: string; ttlHours?: string }) => {
      const r = await api<{ token: string; expiresAt: string; command: string }>(o, 'POST', '/api/v1/edges/enrollment-tokens', {
        edgeId,
        ...(o.name ? { name: o.name } : {}),
        ...(o.town ? { townId: o.town } : {}),
        ...(o.ttlHours ? { ttlHours: Number(o.ttlHours) } : {}),
      });
      out(`enrollment token for ${edgeId} (one use, expires ${shortTime(r.expiresAt)}):\n${r.token}\n\non the edge box:\n  ${r.command} --dir /etc/gridsense`);
    });

  withApi(edges.command('show'))
    .description("an edge's heartbeat, uptime, outbox and configuration state (and why it rejected one)")
    .argument('<id>')
    .action(async (id: string, o: ApiOptions) => {
      for (const l of describeEdge(await api<EdgeView>(o, 'GET', `/api/v1/edges/${encodeURIComponent(id)}`), Date.now())) out(l);
    });

  withApi(edges.command('revoke'))
    .description('revoke an edge (admin): its token is refused from now on')
    .argument('<id>')
    .action(async (id: string, o: ApiOptions) => {
      await api(o, 'DELETE', `/api/v1/edges/${encodeURIComponent(id)}`);
      out(`revoked ${id}`);
    });

  withApi(edges.command('rules'))
    .description('set the library rule files an edge runs besides its profiles\' default rules (admin)')
    .argument('<id>')
    .argument('[files...]', 'e.g. water-level.yaml fire.yaml; none to clear')
    .action(async (id: string, files: string[], o: ApiOptions) => {
      const e = await api<EdgeView>(o, 'PUT', `/api/v1/edges/${encodeURIComponent(id)}/rules`, { rules: files });
      out(`edge ${id}: rules ${e.config.rules.join(', ') || '-'} (configuration v${e.config.desiredVersion})`);
    });
}

export interface EnrollResult {
  edgeId: string;
  edgeToken: string;
  cloudUrl: string;
}

/**
 * On the box: trades the enrollment token and writes `<dir>/edge-token` (0600) and `<dir>/edge.yaml`
 * (edge id, data folder, cloud URL and token file, remote configuration on). Refuses to overwrite an
 * existing edge.yaml unless `force`.
 */
export async function enrollHere(url: string, token: string, dir: string, o: { force?: boolean; dataDir?: string } = {}): Promise<{ config: string; tokenFile: string; result: EnrollResult }> {
  const folder = resolve(dir);
  const config = join(folder, 'edge.yaml');
  const tokenFile = join(folder, 'edge-token');
  if (existsSync(config) && !o.force) throw new GsError('GS_ERR_CONFIG_INVALID', `${config} exists; pass --force to replace it`, [{ path: '', file: config, message: 'exists' }]);
  const cloud = url.replace(/\/$/, '');
  const result = await api<EnrollResult>({ url: cloud }, 'POST', '/api/v1/edges/enroll', { token });
  mkdirSync(folder, { recursive: true });
  writeFileSync(tokenFile, `${result.edgeToken}\n`, { mode: 0o600 });
  chmodSync(tokenFile, 0o600); // the mode only applies to a new file
  const yaml = toYaml({
    edge: { id: result.edgeId, dataDir: o.dataDir ?? './data' },
    cloud: { url: cloud, tokenFile: './edge-token', remoteConfig: true },
    devices: [],
  });
  writeFileSync(
    config,
    `# Written by \`gridsense edge enroll\`. Devices and rules come from the cloud (remote configuration);\n# the edge id, data folder, cloud and MQTT broker stay in this file.\n${yaml}`,
  );
  return { config, tokenFile, result };
}

export function addEdgeEnrollCommand(edge: Command): void {
  edge
    .command('enroll')
    .description("on the edge box: trade an enrollment token for this edge's credentials and write edge.yaml")
    .argument('<url>', 'the county cloud, e.g. https://gridsense.county.gov.cn')
    .argument('<token>', 'the enrollment token (gsn_…)')
    .option('--dir <dir>', 'where edge.yaml and the token file go', '.')
    .option('--data-dir <dir>', 'the edge\'s data folder, relative to --dir', './data')
    .option('--force', 'replace an existing edge.yaml')
    .action(async (url: string, token: string, o: { dir: string; dataDir: string; force?: boolean }) => {
      const r = await enrollHere(url, token, o.dir, { force: o.force === true, dataDir: o.dataDir });
      out(`enrolled as edge ${r.result.edgeId}\n  ${r.config}\n  ${r.tokenFile} (0600)`);
      if (r.result.cloudUrl !== url.replace(/\/$/, '')) out(`  (the cloud calls itself ${r.result.cloudUrl})`);
      out(`run it: gridsense edge --config ${r.config}`);
    });
}
