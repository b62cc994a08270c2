// Helpers for the fleet's tests (not a test file itself): requests with any method and credential,
// API keys, enrolled edges, device bodies, heartbeats.
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import type { Heartbeat } from '../../contracts/heartbeat.js';
import { ADMIN } from '../test-support.js';

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export function call(app: FastifyInstance, method: Method, url: string, o: { as?: string | null; body?: unknown; headers?: Record<string, string> } = {}): Promise<LightMyRequestResponse> {
  const as = o.as === undefined ? ADMIN : o.as;
  const headers: Record<string, string> = { ...(as ? { authorization: `Bearer ${as}` } : {}), ...(o.headers ?? {}) };
  return app.inject({ method, url, headers, ...(o.body === undefined ? {} : { payload: o.body as object }) });
}

export async function ok<T = unknown>(res: LightMyRequestResponse | Promise<LightMyRequestResponse>, status?: number): Promise<T> {
  const r = await res;
  if (status !== undefined ? r.statusCode !== status : r.statusCode >= 300) throw new Error(`HTTP ${r.statusCode}: ${r.body}`);
  return (r.body ? r.json<T>() : undefined) as T;
}

export async function apiKey(app: FastifyInstance, role: string, townId?: string): Promise<string> {
  const r = await ok<{ key: string }>(call(app, 'POST', '/api/v1/api-keys', { body: { name: `${role}-${townId ?? 'county'}`, role, ...(townId ? { townId } : {}) } }));
  return r.key;
}

/** Issues an enrollment token and trades it: the edge's own token. */
export async function enrolledEdge(app: FastifyInstance, edgeId: string, townId?: string): Promise<string> {
  const t = await ok<{ token: string }>(call(app, 'POST', '/api/v1/edges/enrollment-tokens', { body: { edgeId, ...(townId ? { townId } : {}) } }));
  const e = await ok<{ edgeToken: string }>(call(app, 'POST', '/api/v1/edges/enroll', { as: null, body: { token: t.token } }));
  return e.edgeToken;
}

export function modbusDevice(id: string, o: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id,
    profile: 'generic/radar-water-level-gauge',
    edge: 'town-a',
    connection: { protocol: 'modbus-tcp', host: '10.0.0.5', port: 502, unitId: 1 },
    ...o,
  };
}

export function beat(o: Partial<Heartbeat> & { devices?: Heartbeat['devices'] } = {}, now = 0): Heartbeat {
  return { version: '0.1.0', startedAt: now - 3_600_000, sentAt: now, outboxDepth: 0, deadLetters: 0, devices: [], buses: [], ...o };
}

export function postBeat(app: FastifyInstance, token: string, hb: Heartbeat): Promise<LightMyRequestResponse> {
  return call(app, 'POST', '/api/v1/edges/heartbeat', { as: token, body: hb });
}
