// `gridsense firmware keygen|sign|keys|upload|artifacts|campaign`: signing firmware on a release
// machine (the private key never leaves it), and rolling it out through the cloud.
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { generateKeyPairSync } from 'node:crypto';
import { basename, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { durationMs } from '../../contracts/duration.js';
import { GsError, type ErrorCode } from '../../contracts/errors.js';
import { FirmwareManifest, keyIdOf, sha256Hex, signManifest } from '../../contracts/firmware.js';
import { assertSchema } from '../../contracts/validate.js';
import { api, cloudUrl, shortTime, withApi, type ApiOptions } from './api.js';

const out = (s: string) => process.stdout.write(`${s}\n`);
const collect = (v: string, prior: string[] = []) => [...prior, v];

/** What `firmware sign` writes next to the image and `firmware upload` reads. */
export interface SignatureFile {
  manifest: FirmwareManifest;
  signature: string;
  keyId: string;
}

interface Campaign {
  id: string;
  name: string;
  state: string;
  stateLabel: string;
  artifact: { id: string; version: string; profiles: string[] };
  targetKind: string;
  currentWave: number | null;
  waves: Array<{ index: number; share: number; size: number; startedAt: string | null; finishedAt: string | null; counts: Record<string, number>; failureRate: number }>;
  counts: Record<string, number>;
  failureReasons: Array<{ code: string; count: number; example: string | null }>;
  jitterMs: number;
  window: { start: string; end: string } | null;
  failureThreshold: number;
  soakMs: number;
  maxInFlightPerEdge: number | null;
  haltedReason: string | null;
  createdAt: string;
}

const pct = (x: number) => `${Math.round(x * 1000) / 10}%`;
const LIVE = ['pending', 'downloading', 'verifying', 'installing'];

export function describeCampaign(c: Campaign): string[] {
  const n = c.counts;
  const lines = [
    `campaign ${c.id} (${c.name}): ${c.state} ${c.stateLabel}`,
    `  artifact   ${c.artifact.id} version ${c.artifact.version} for ${c.artifact.profiles.join(', ')} (${c.targetKind}s)`,
    `  jobs       ${n.total} total: ${n.succeeded} succeeded, ${n.failed} failed, ${LIVE.reduce((s, k) => s + (n[k] ?? 0), 0)} to go (${n.downloading + n.verifying + n.installing} under way), ${n.cancelled} cancelled`,
    `  options    threshold ${pct(c.failureThreshold)}   jitter ${Math.round(c.jitterMs / 1000)} s   soak ${Math.round(c.soakMs / 1000)} s   window ${c.window ? `${c.window.start}-${c.window.end}` : 'any time'}   per edge ${c.maxInFlightPerEdge ?? 'no cap'}`,
  ];
  if (c.haltedReason) lines.push(`  HALTED     ${c.haltedReason}`);
  for (const w of c.waves) {
    const mark = c.currentWave === w.index ? '▶' : ' ';
    lines.push(`  ${mark} wave ${w.index + 1}  ${pct(w.share)} cumulative, ${w.size} job(s): ${w.counts.succeeded} ok, ${w.counts.failed} failed (${pct(w.failureRate)})${w.startedAt ? `   started ${shortTime(w.startedAt)}` : '   not started'}${w.finishedAt ? `   ended ${shortTime(w.finishedAt)}` : ''}`);
  }
  for (const r of c.failureReasons) lines.push(`  failed     ${r.count} × ${r.code}${r.example ? `: ${r.example}` : ''}`);
  return lines;
}

function readText(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new GsError('GS_ERR_CONFIG_READ', `cannot read ${what} ${file}: ${(err as Error).message}`);
  }
}

/** The image bytes to the cloud (api() sends text or JSON only). */
async function postBytes<T>(o: ApiOptions, path: string, bytes: Buffer): Promise<T> {
  const url = cloudUrl(o);
  const token = o.key ?? process.env.GRIDSENSE_API_KEY ?? o.adminToken ?? process.env.GRIDSENSE_ADMIN_TOKEN;
  let res: Response;
  try {
    res = await fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/octet-stream', ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: bytes });
  } catch (err) {
    throw new GsError('GS_ERR_INTERNAL', `cannot reach the cloud at ${url}: ${(err as Error).message}`);
  }
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  if (!res.ok) {
    const e = json as { code?: string; message?: string; details?: GsError['details'] } | undefined;
    throw new GsError((e?.code?.startsWith('GS_ERR_') ? e.code : 'GS_ERR_INTERNAL') as ErrorCode, e?.message ?? `HTTP ${res.status}`, e?.details ?? []);
  }
  return json as T;
}

function ms(what: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  try {
    return durationMs(/^\d+$/.test(v) ? Number(v) : v);
  } catch {
    throw new GsError('GS_ERR_VALIDATION', `--${what} "${v}" is not a duration (e.g. 90s, 10m, 2h)`);
  }
}

function num(what: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new GsError('GS_ERR_VALIDATION', `--${what} "${v}" is not a number`);
  return n;
}

export function addFirmwareCommands(program: Command): void {
  const fw = program.command('firmware').description('signed firmware: keys, images, rollout campaigns in waves');

  fw.command('keygen')
    .description('make an Ed25519 signing key pair: <dir>/firmware-signing.key (private, 0600) and .pub')
    .requiredOption('--out <dir>', 'where to write them')
    .option('--force', 'overwrite an existing pair')
    .action((o: { out: string; force?: boolean }) => {
      const dir = resolve(o.out);
      const priv = join(dir, 'firmware-signing.key');
      const pub = join(dir, 'firmware-signing.pub');
      if (!o.force && (existsSync(priv) || existsSync(pub))) throw new GsError('GS_ERR_CONFIG_INVALID', `${priv} exists; pass --force to replace it (artifacts it signed then need its public key to stay registered)`);
      mkdirSync(dir, { recursive: true });
      const { publicKey, privateKey } = generateKeyPairSync('ed25519');
      writeFileSync(priv, privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), { mode: 0o600 });
      chmodSync(priv, 0o600);
      writeFileSync(pub, publicKey.export({ type: 'spki', format: 'pem' }).toString());
      out(`key ${keyIdOf(publicKey)}`);
      out(`private ${priv} (keep it off the cloud; sign with it)`);
      out(`public  ${pub} (register it: gridsense firmware keys add ${pub})`);
    });

  fw.command('sign')
    .description('sign an image: prints {manifest, signature, keyId} and writes it to <image>.sig.json')
    .argument('<image>')
    .requiredOption('--key <private.pem>', 'the Ed25519 private key')
    .requiredOption('--version <version>')
    .requiredOption('--profile <id>', 'a device profile the image is for (repeatable); gridsense-edge for the edge agent', collect)
    .option('--out <file>', 'where to write the signature file (default <image>.sig.json)')
    .action((image: string, o: { key: string; version: string; profile: string[]; out?: string }) => {
      let bytes: Buffer;
      try {
        bytes = readFileSync(image);
      } catch (err) {
        throw new GsError('GS_ERR_CONFIG_READ', `cannot read image ${image}: ${(err as Error).message}`);
      }
      const manifest = assertSchema(FirmwareManifest, { version: o.version, sha256: sha256Hex(bytes), size: bytes.length, profiles: [...new Set(o.profile)].sort() }, 'GS_ERR_VALIDATION', 'the manifest', basename(image));
      const pem = readText(o.key, 'private key');
      let sig: SignatureFile;
      try {
        sig = { manifest, signature: signManifest(manifest, pem), keyId: keyIdOf(pem) };
      } catch (err) {
        throw new GsError('GS_ERR_FIRMWARE_KEY_INVALID', `${o.key}: ${(err as Error).message}`);
      }
      const file = o.out ?? `${image}.sig.json`;
      writeFileSync(file, `${JSON.stringify(sig, null, 2)}\n`);
      out(JSON.stringify(sig, null, 2));
      process.stderr.write(`wrote ${file}\n`);
    });

  const keys = fw.command('keys').description('the signing keys the cloud trusts');
  withApi(keys.command('add'))
    .description('register a public key (admin)')
    .argument('<public.pem>')
    .option('--name <name>', 'who holds the private key')
    .action(async (file: string, o: ApiOptions & { name?: string }) => {
      const k = await api<{ keyId: string; name: string }>(o, 'POST', '/api/v1/firmware/keys', { name: o.name ?? basename(file), publicKey: readText(file, 'public key') });
      out(`key ${k.keyId} (${k.name}) registered`);
    });
  withApi(keys.command('list'))
    .description('list keys')
    .action(async (o: ApiOptions) => {
      const r = await api<{ items: Array<{ keyId: string; name: string; createdAt: string; revokedAt: string | null }> }>(o, 'GET', '/api/v1/firmware/keys');
      for (const k of r.items) out(`${k.keyId}\t${k.name}\t${shortTime(k.createdAt)}\t${k.revokedAt ? `revoked ${shortTime(k.revokedAt)}` : 'trusted'}`);
    });
  withApi(keys.command('revoke'))
    .description('revoke a key (admin): nothing it signed can be uploaded or rolled out any more')
    .argument('<keyId>')
    .action(async (id: string, o: ApiOptions) => {
      await api(o, 'DELETE', `/api/v1/firmware/keys/${encodeURIComponent(id)}`);
      out(`revoked ${id}`);
    });

  withApi(fw.command('upload'))
    .description('upload a signed image; the cloud checks its SHA-256 and signature')
    .argument('<image>')
    .option('--sig <file>', 'the signature file from `firmware sign` (default <image>.sig.json)')
    .action(async (image: string, o: ApiOptions & { sig?: string }) => {
      const bytes = readFileSync(image);
      const sigFile = o.sig ?? `${image}.sig.json`;
      let sig: SignatureFile;
      try {
        sig = JSON.parse(readText(sigFile, 'signature file')) as SignatureFile;
      } catch (err) {
        if (err instanceof GsError) throw err;
        throw new GsError('GS_ERR_VALIDATION', `${sigFile} is not JSON: ${(err as Error).message}`);
      }
      const m = sig.manifest;
      if (!m || typeof sig.signature !== 'string') throw new GsError('GS_ERR_VALIDATION', `${sigFile} is not a signature file (gridsense firmware sign)`);
      // Caught here, before megabytes go over the wire: the file next to the signature is another build.
      if (sha256Hex(bytes) !== m.sha256) throw new GsError('GS_ERR_FIRMWARE_CHECKSUM', `${image} is not the image ${sigFile} signed (SHA-256 differs)`);
      const q = new URLSearchParams({ version: m.version, profiles: m.profiles.join(','), sha256: m.sha256, signature: sig.signature, ...(sig.keyId ? { keyId: sig.keyId } : {}) });
      const a = await postBytes<{ id: string; version: string; size: number; profiles: string[]; keyId: string }>(o, `/api/v1/firmware/artifacts?${q}`, bytes);
      out(`artifact ${a.id}: version ${a.version}, ${a.size} bytes, for ${a.profiles.join(', ')}, signed by ${a.keyId}`);
    });

  withApi(fw.command('artifacts'))
    .description('list uploaded artifacts (newest first)')
    .option('--profile <id>')
    .action(async (o: ApiOptions & { profile?: string }) => {
      const r = await api<{ items: Array<{ id: string; version: string; profiles: string[]; size: number; createdAt: string }> }>(o, 'GET', `/api/v1/firmware/artifacts${o.profile ? `?profile=${encodeURIComponent(o.profile)}` : ''}`);
      for (const a of r.items) out(`${a.id}\t${a.version}\t${a.profiles.join(',')}\t${a.size}\t${shortTime(a.createdAt)}`);
    });

  const campaign = fw.command('campaign').description('roll an artifact out in waves: canary first, halted on failures');
  withApi(campaign.command('create'))
    .description('create a campaign (a draft unless --start)')
    .requiredOption('--artifact <id>')
    .option('--name <name>')
    .option('--edge <id>', 'only devices on this edge (repeatable)', collect)
    .option('--town <id>', 'only this town (repeatable)', collect)
    .option('--tag <tag>', 'only devices with this tag (repeatable)', collect)
    .option('--device <id>', 'only this device (repeatable)', collect)
    .option('--waves <shares>', 'cumulative shares, canary first, e.g. 0.05,0.3,1', '0.05,0.3,1')
    .option('--jitter <duration>', 'spread each wave\'s starts over this long, e.g. 10m')
    .option('--window <HH:MM-HH:MM>', 'daily maintenance window in the edge\'s local time, e.g. 01:00-05:00')
    .option('--threshold <share>', 'halt when more than this share of a wave fails', '0.2')
    .option('--soak <duration>', 'wait this long after a wave before the next, e.g. 1h')
    .option('--max-in-flight <n>', 'at most this many jobs per edge at a time')
    .option('--timeout <duration>', 'a job without an outcome this long fails')
    .option('--start', 'start it now')
    .action(async (o: ApiOptions & Record<string, string | string[] | boolean | undefined>) => {
      const s = (k: string) => o[k] as string | undefined;
      const list = (k: string) => o[k] as string[] | undefined;
      const win = s('window');
      const w = win === undefined ? undefined : /^(\d{2}:\d{2})-(\d{2}:\d{2})$/.exec(win);
      if (win !== undefined && !w) throw new GsError('GS_ERR_VALIDATION', `--window "${win}" is not HH:MM-HH:MM`);
      const target = Object.fromEntries((['edges', 'towns', 'tags', 'devices'] as const).map((k, i) => [k, list(['edge', 'town', 'tag', 'device'][i]!)]).filter(([, v]) => v !== undefined));
      const body = {
        artifactId: s('artifact'),
        ...(s('name') ? { name: s('name') } : {}),
        ...(Object.keys(target).length > 0 ? { target } : {}),
        waves: s('waves')!.split(',').map((x) => ({ share: num('waves', x.trim())! })),
        ...(s('jitter') ? { jitterMs: ms('jitter', s('jitter')) } : {}),
        ...(w ? { window: { start: w[1], end: w[2] } } : {}),
        failureThreshold: num('threshold', s('threshold')),
        ...(s('soak') ? { soakMs: ms('soak', s('soak')) } : {}),
        ...(s('maxInFlight') ? { maxInFlightPerEdge: num('max-in-flight', s('maxInFlight')) } : {}),
        ...(s('timeout') ? { jobTimeoutMs: ms('timeout', s('timeout')) } : {}),
        ...(o.start ? { start: true } : {}),
      };
      for (const l of describeCampaign(await api<Campaign>(o, 'POST', '/api/v1/firmware/campaigns', body))) out(l);
    });
  withApi(campaign.command('list'))
    .description('list campaigns, newest first')
    .option('--state <state>', 'draft, running, paused, halted, aborted, completed')
    .action(async (o: ApiOptions & { state?: string }) => {
      const r = await api<{ items: Campaign[] }>(o, 'GET', `/api/v1/firmware/campaigns${o.state ? `?state=${encodeURIComponent(o.state)}` : ''}`);
      for (const c of r.items) out(`${c.id}\t${c.state}\t${c.artifact.version}\t${c.counts.succeeded}/${c.counts.total} ok\t${c.counts.failed} failed\t${c.name}`);
    });
  withApi(campaign.command('show'))
    .description('one campaign: waves, counts, failure reasons')
    .argument('<id>')
    .action(async (id: string, o: ApiOptions) => {
      for (const l of describeCampaign(await api<Campaign>(o, 'GET', `/api/v1/firmware/campaigns/${encodeURIComponent(id)}`))) out(l);
    });
  withApi(campaign.command('jobs'))
    .description("a campaign's jobs (the first 500)")
    .argument('<id>')
    .option('--state <state>')
    .action(async (id: string, o: ApiOptions & { state?: string }) => {
      const r = await api<{ items: Array<{ id: string; wave: number; deviceId: string | null; edgeId: string; state: string; reason: { code: string | null; message: string | null } | null }> }>(o, 'GET', `/api/v1/firmware/campaigns/${encodeURIComponent(id)}/jobs?limit=500${o.state ? `&state=${encodeURIComponent(o.state)}` : ''}`);
      for (const j of r.items) out(`${j.id}\twave ${j.wave + 1}\t${j.deviceId ?? `edge ${j.edgeId}`}\t${j.edgeId}\t${j.state}${j.reason?.code ? `\t${j.reason.code}: ${j.reason.message ?? ''}` : ''}`);
    });
  for (const [step, what] of [
    ['start', 'start a draft: the canary wave goes out'],
    ['pause', 'stop releasing; edges start nothing new'],
    ['resume', 'resume (a halted campaign: admin, with --override-halt)'],
    ['abort', 'cancel every job not started'],
  ] as const) {
    const c = withApi(campaign.command(step)).description(what).argument('<id>');
    if (step === 'resume') c.option('--override-halt', "accept the halted wave's failures and go on");
    c.action(async (id: string, o: ApiOptions & { overrideHalt?: boolean }) => {
      const r = await api<Campaign>(o, 'POST', `/api/v1/firmware/campaigns/${encodeURIComponent(id)}/${step}`, step === 'resume' ? { ...(o.overrideHalt ? { overrideHalt: true } : {}) } : undefined);
      out(`${r.id}: ${r.state} ${r.stateLabel}${r.currentWave !== null ? `, wave ${r.currentWave + 1} of ${r.waves.length}` : ''}`);
    });
  }
}
