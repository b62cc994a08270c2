// `gridsense fleet status`: the technician's morning summary — per town what is online, what is
// offline since when and why, which edges are silent, whose battery is low — and `fleet offline`.
import type { Command } from 'commander';
import { ago, api, duration, shortTime, withApi, type ApiOptions } from './api.js';

interface Counts {
  total: number;
  online: number;
  offline: number;
  unknown: number;
  disabled: number;
}
interface EdgeBrief {
  id: string;
  status: string;
  lastHeartbeatAt: string | null;
  uptimeSeconds: number | null;
  version: string | null;
  outboxDepth: number | null;
  /** From the uplink-resilience fields of the edge view (absent from older clouds). */
  oldestUndeliveredAlarmAgeSeconds?: number | null;
  outboxOverQuota?: boolean;
  config: { desiredVersion: number; appliedVersion: number | null; inSync: boolean; lastReport: { applied: boolean; version: number; error?: { code: string } } | null };
}
export interface FleetStatus {
  at: string;
  from: string;
  to: string;
  lowBatteryPercent: number;
  totals: { devices: Counts; availability: { percent: number | null }; edges: { total: number; online: number; offline: number; never: number; revoked: number } };
  towns: Array<{
    townId: string | null;
    name: string | null;
    devices: Counts;
    availability: { percent: number | null };
    byKind: Array<{ kind: string; devices: Counts; availabilityPercent: number | null }>;
    edges: EdgeBrief[];
    lowBattery: Array<{ deviceId: string; name: string; batteryPercent: number }>;
  }>;
}
export interface FleetDevice {
  id: string;
  name: string;
  townId: string | null;
  edgeId: string;
  status: string;
  since: string | null;
  lastSeenAt: string | null;
  lastError: string | null;
}

const pct = (p: number | null) => (p === null ? '-' : `${p.toFixed(2)}%`);
const counts = (c: Counts) => `${c.total} device(s): ${c.online} online, ${c.offline} offline, ${c.unknown} unknown${c.disabled ? ` (${c.disabled} disabled)` : ''}`;

/** The summary as lines; `offline` are the devices to go and see. */
export function formatFleetSummary(s: FleetStatus, offline: FleetDevice[], offlineMore = false): string[] {
  const now = Date.parse(s.at);
  const t = s.totals;
  const lines = [
    `gridsense fleet at ${shortTime(s.at)} — availability since ${shortTime(s.from)}`,
    `all towns: ${counts(t.devices)}; availability ${pct(t.availability.percent)}; edges ${t.edges.online}/${t.edges.total - t.edges.revoked} online`,
  ];
  for (const town of s.towns) {
    lines.push('', `${town.name ?? town.townId ?? 'outside every town'}${town.townId ? ` [${town.townId}]` : ''}`);
    lines.push(`  devices    ${counts(town.devices)}; availability ${pct(town.availability.percent)}`);
    const kinds = town.byKind.filter((k) => k.devices.total > 0);
    if (kinds.length > 1) lines.push(`  by kind    ${kinds.map((k) => `${k.kind} ${k.devices.online}/${k.devices.total} ${pct(k.availabilityPercent)}`).join('; ')}`);
    for (const e of town.edges) {
      if (e.status === 'revoked') continue;
      const cfg = e.config;
      const rejected = cfg.lastReport && !cfg.lastReport.applied ? `, REJECTED v${cfg.lastReport.version} (${cfg.lastReport.error?.code ?? 'error'})` : '';
      lines.push(
        `  edge       ${e.id} ${e.status.toUpperCase()}  last beat ${e.lastHeartbeatAt ? ago(e.lastHeartbeatAt, now) : 'never'}  up ${duration(e.uptimeSeconds)}  v${e.version ?? '-'}  outbox ${e.outboxDepth ?? '-'}${e.oldestUndeliveredAlarmAgeSeconds != null ? ` (oldest alarm waiting ${duration(e.oldestUndeliveredAlarmAgeSeconds)})` : ''}${e.outboxOverQuota ? ' OVER QUOTA' : ''}  config ${cfg.appliedVersion ?? '-'}/${cfg.desiredVersion}${rejected}`,
      );
    }
    for (const d of offline.filter((x) => x.townId === town.townId)) {
      lines.push(`  OFFLINE    ${d.id} (${d.name}) on ${d.edgeId}: last seen ${d.lastSeenAt ? `${shortTime(d.lastSeenAt)} (${ago(d.lastSeenAt, now)})` : 'never'}${d.lastError ? `, ${d.lastError}` : ''}`);
    }
    for (const b of town.lowBattery) lines.push(`  battery    ${b.deviceId} (${b.name}) ${b.batteryPercent}%`);
  }
  if (offlineMore) lines.push('', '(more offline devices: gridsense fleet offline)');
  return lines;
}

export function addFleetCommands(program: Command): void {
  const fleet = program.command('fleet').description('fleet health: what is online, offline, silent or low on battery');
  withApi(fleet.command('status'))
    .description("the morning summary per town: devices, availability, edges, what is offline and why, low batteries")
    .option('--town <id>')
    .option('--hours <n>', 'availability over the last n hours', '24')
    .option('--low-battery <percent>', 'list batteries at or below', '20')
    .option('--json', 'print the raw JSON')
    .action(async (o: ApiOptions & { town?: string; hours: string; lowBattery: string; json?: boolean }) => {
      const from = new Date(Date.now() - Number(o.hours) * 3_600_000).toISOString();
      const q = new URLSearchParams({ from, lowBattery: o.lowBattery, ...(o.town ? { town: o.town } : {}) });
      const status = await api<FleetStatus>(o, 'GET', `/api/v1/fleet/status?${q.toString()}`);
      const off = await api<{ items: FleetDevice[]; nextCursor: string | null }>(o, 'GET', `/api/v1/fleet/devices?status=offline&limit=200${o.town ? `&town=${encodeURIComponent(o.town)}` : ''}`);
      if (o.json) {
        process.stdout.write(`${JSON.stringify({ status, offline: off.items }, null, 2)}\n`);
        return;
      }
      for (const l of formatFleetSummary(status, off.items, off.nextCursor !== null)) process.stdout.write(`${l}\n`);
    });

  withApi(fleet.command('offline'))
    .description('every device offline now (or --status unknown), with last seen and last error')
    .option('--status <status>', 'offline or unknown', 'offline')
    .option('--town <id>')
    .option('--edge <id>')
    .action(async (o: ApiOptions & { status: string; town?: string; edge?: string }) => {
      const q = new URLSearchParams({ status: o.status, limit: '500', ...(o.town ? { town: o.town } : {}), ...(o.edge ? { edge: o.edge } : {}) });
      let cursor: string | null = null;
      do {
        if (cursor) q.set('cursor', cursor);
        const page: { items: FleetDevice[]; nextCursor: string | null } = await api(o, 'GET', `/api/v1/fleet/devices?${q.toString()}`);
        for (const d of page.items) process.stdout.write(`${[d.id, d.townId ?? '-', d.edgeId, d.lastSeenAt ? shortTime(d.lastSeenAt) : 'never', d.lastError ?? '-', d.name].join('\t')}\n`);
        cursor = page.nextCursor;
      } while (cursor);
    });
}
