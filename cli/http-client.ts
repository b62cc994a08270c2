import { GsError } from '../contracts/errors.js';

/** Where CLI commands that talk to a running cloud find it and its admin token. */
export interface CloudTarget {
  url: string;
  adminToken?: string;
}

export function cloudTarget(opts: { cloud?: string; adminToken?: string }): CloudTarget {
  return {
    url: (opts.cloud ?? process.env.GRIDSENSE_CLOUD_URL ?? 'http://127.0.0.1:8080').replace(/\/$/, ''),
    adminToken: opts.adminToken ?? process.env.GRIDSENSE_ADMIN_TOKEN,
  };
}

/** JSON over HTTP to the cloud; a GS_ERR body from the cloud becomes a GsError with its code. */
export async function cloudRequest<T>(target: CloudTarget, method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (target.adminToken) headers.authorization = `Bearer ${target.adminToken}`;
  let res: Response;
  try {
    res = await fetch(`${target.url}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (err) {
    throw new GsError('GS_ERR_INTERNAL', `cannot reach the cloud at ${target.url}: ${(err as Error).message}`);
  }
  const text = await res.text();
  const json = text ? (JSON.parse(text) as unknown) : undefined;
  if (!res.ok) {
    const e = json as { code?: string; message?: string; details?: GsError['details'] } | undefined;
    const code = (e?.code && e.code.startsWith('GS_ERR_') ? e.code : 'GS_ERR_INTERNAL') as GsError['code'];
    throw new GsError(code, e?.message ?? `HTTP ${res.status}`, e?.details ?? []);
  }
  return json as T;
}
