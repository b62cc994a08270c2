// Helpers for the firmware tests (not a test file itself): a signing key pair, signed uploads, a
// seeded random, devices on edges, campaign steps and edge reports.
import { generateKeyPairSync } from 'node:crypto';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { sha256Hex, signManifest, keyIdOf, type FirmwareJob, type FirmwareJobState } from '../../contracts/firmware.js';
import { ADMIN } from '../test-support.js';
import { call, ok } from '../fleet/test-support.js';

// The periodic sweep stays off in tests: they call app.firmware.sweep() with their clock.
process.env.GRIDSENSE_FIRMWARE_SWEEP_MS = '0';

export const PROFILE = 'generic/radar-water-level-gauge';

export interface KeyPair {
  pub: string;
  priv: string;
  keyId: string;
}

export function keyPair(): KeyPair {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const pub = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  return { pub, priv: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), keyId: keyIdOf(pub) };
}

/** A deterministic random in [0, 1) (mulberry32). */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export async function addKey(app: FastifyInstance, k: KeyPair, name = 'release key'): Promise<void> {
  await ok(call(app, 'POST', '/api/v1/firmware/keys', { body: { name, publicKey: k.pub } }), 201);
}

export interface UploadOptions {
  version?: string;
  profiles?: string[];
  sha256?: string;
  signature?: string | null;
  keyId?: string | null;
  as?: string;
  contentType?: string;
}

/** POST /firmware/artifacts with the image signed by `k` unless told otherwise. */
export function upload(app: FastifyInstance, k: KeyPair, image: Buffer, o: UploadOptions = {}): Promise<LightMyRequestResponse> {
  const version = o.version ?? '2.0.0';
  const profiles = o.profiles ?? [PROFILE];
  const sha256 = sha256Hex(image);
  const signature = o.signature === undefined ? signManifest({ version, sha256, size: image.length, profiles }, k.priv) : o.signature;
  const q = new URLSearchParams({ version, profiles: profiles.join(','), sha256: o.sha256 ?? sha256 });
  if (signature !== null) q.set('signature', signature);
  const keyId = o.keyId === undefined ? k.keyId : o.keyId;
  if (keyId !== null) q.set('keyId', keyId);
  return app.inject({ method: 'POST', url: `/api/v1/firmware/artifacts?${q}`, headers: { authorization: `Bearer ${o.as ?? ADMIN}`, 'content-type': o.contentType ?? 'application/octet-stream' }, payload: image });
}

export async function uploaded(app: FastifyInstance, k: KeyPair, image: Buffer, o: UploadOptions = {}): Promise<string> {
  return (await ok<{ id: string }>(upload(app, k, image, o), 201)).id;
}

/** `n` gauges on `edge`, ids `<prefix>-01`…, registered in one CSV import. */
export async function gauges(app: FastifyInstance, edge: string, prefix: string, n: number): Promise<string[]> {
  const ids = Array.from({ length: n }, (_, i) => `${prefix}-${String(i + 1).padStart(2, '0')}`);
  const csv = ['id,profile,edge,protocol,host,port,unitId', ...ids.map((id, i) => `${id},${PROFILE},${edge},modbus-tcp,10.0.0.5,502,${i + 1}`)].join('\n');
  await ok(call(app, 'POST', '/api/v1/devices/import', { body: csv, headers: { 'content-type': 'text/csv' } }));
  return ids;
}

export interface Wave {
  size: number;
  startedAt: string | null;
  finishedAt: string | null;
  counts: Record<FirmwareJobState | 'total', number>;
  failureRate: number;
}
export interface Campaign {
  id: string;
  state: string;
  stateLabel: string;
  targetKind: 'device' | 'edge';
  currentWave: number | null;
  waves: Wave[];
  counts: Record<FirmwareJobState | 'total', number>;
  failureReasons: Array<{ code: string; count: number; example: string | null }>;
  haltedReason: string | null;
  window: { start: string; end: string } | null;
}

export async function campaign(app: FastifyInstance, body: Record<string, unknown>, as?: string): Promise<Campaign> {
  return ok<Campaign>(call(app, 'POST', '/api/v1/firmware/campaigns', { body, ...(as ? { as } : {}) }), 201);
}

export function show(app: FastifyInstance, id: string): Promise<Campaign> {
  return ok<Campaign>(call(app, 'GET', `/api/v1/firmware/campaigns/${id}`));
}

export function act(app: FastifyInstance, id: string, step: 'start' | 'pause' | 'resume' | 'abort', o: { as?: string; body?: unknown } = {}): Promise<LightMyRequestResponse> {
  return call(app, 'POST', `/api/v1/firmware/campaigns/${id}/${step}`, o);
}

/** The edge's job list now. */
export async function jobsOf(app: FastifyInstance, edgeToken: string): Promise<FirmwareJob[]> {
  return (await ok<{ jobs: FirmwareJob[] }>(call(app, 'GET', '/api/v1/edges/firmware/jobs', { as: edgeToken }))).jobs;
}

export function report(app: FastifyInstance, edgeToken: string, jobId: string, state: FirmwareJobState, extra: Record<string, unknown> = {}): Promise<LightMyRequestResponse> {
  return call(app, 'POST', `/api/v1/edges/firmware/jobs/${jobId}/report`, { as: edgeToken, body: { state, at: 1, ...extra } });
}

/** Ends a job: through the whole flow (`walk`), or straight to its end (a device may skip states it has no report for). */
export async function finish(app: FastifyInstance, edgeToken: string, jobId: string, end: 'succeeded' | 'failed' = 'succeeded', walk = false): Promise<void> {
  if (walk) for (const s of ['downloading', 'verifying', 'installing'] as const) await ok(report(app, edgeToken, jobId, s));
  await ok(report(app, edgeToken, jobId, end, end === 'failed' ? { reason: { code: 'GS_ERR_FIRMWARE_CHECKSUM', message: 'image damaged on the RS-485 hop' } } : { runningVersion: '2.0.0' }));
}

export const image = (size: number, seed = 7): Buffer => {
  const r = seeded(seed);
  const b = Buffer.alloc(size);
  for (let i = 0; i < size; i++) b[i] = Math.floor(r() * 256);
  return b;
};
