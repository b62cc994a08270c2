// How the fleet commands reach the cloud: its URL, and a credential — a technician's API key
// (--key, GRIDSENSE_API_KEY) or the admin token (--admin-token, GRIDSENSE_ADMIN_TOKEN).
import type { Command } from 'commander';
import { GsError, type ErrorCode } from '../../contracts/errors.js';

export interface ApiOptions {
  cloud?: string;
  adminToken?: string;
  key?: string;
}

export function withApi(c: Command): Command {
  return c
    .option('--cloud <url>', 'cloud URL (env GRIDSENSE_CLOUD_URL)')
    .option('--key <apiKey>', 'API key (env GRIDSENSE_API_KEY)')
    .option('--admin-token <token>', 'admin token (env GRIDSENSE_ADMIN_TOKEN)');
}

export function cloudUrl(o: ApiOptions): string {
  return (o.cloud ?? process.env.GRIDSENSE_CLOUD_URL ?? 'http://127.0.0.1:8080').replace(/\/$/, '');
}

function credential(o: ApiOptions): string | undefined {
  return o.key ?? process.env.GRIDSENSE_API_KEY ?? o.adminToken ?? process.env.GRIDSENSE_ADMIN_TOKEN;
}

/** A request to the cloud; JSON unless `contentType` says otherwise. A GS_ERR answer becomes a GsError. */
export async function api<T>(o: ApiOptions | { url: string; token?: string }, method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<T> {
  const url = 'url' in o ? o.url.replace(/\/$/, '') : cloudUrl(o);
  const token = 'url' in o ? o.token : credential(o);
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = contentType;
  if (token) headers.authorization = `Bearer ${token}`;
  let res: Response;
  try {
    res = await fetch(`${url}${path}`, { method, headers, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) });
  } catch (err) {
    throw new GsError('GS_ERR_INTERNAL', `cannot reach the cloud at ${url}: ${(err as Error).message}`);
  }
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? (JSON.parse(text) as unknown) : undefined;
  } catch {
    json = undefined;
  }
  if (!res.ok) {
    const e = json as { code?: string; message?: string; details?: GsError['details'] } | undefined;
    const code = (e?.code?.startsWith('GS_ERR_') ? e.code : 'GS_ERR_INTERNAL') as ErrorCode;
    throw new GsError(code, e?.message ?? `HTTP ${res.status}`, e?.details ?? []);
  }
  return json as T;
}

/** "3 min ago", "2 h 5 min ago", "4 d ago". */
export function ago(iso: string | null, now: number): string {
  if (!iso) return 'never';
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 90) return `${s} s ago`;
  const m = Math.round(s / 60);
  if (m < 120) return `${m} min ago`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ${m % 60} min ago`;
  return `${Math.floor(h / 24)} d ago`;
}

export function duration(seconds: number | null): string {
  if (seconds === null) return '-';
  const d = Math.floor(seconds / 86_400);
  const h = Math.floor((seconds % 86_400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  return d > 0 ? `${d}d ${h}h` : h > 0 ? `${h}h ${m}m` : `${m}m`;
}

/** "2026-07-01 08:59" (UTC). */
export function shortTime(iso: string | null): string {
  return iso ? `${iso.slice(0, 10)} ${iso.slice(11, 16)}Z` : '-';
}
