// The firmware API's shapes (TypeBox, so OpenAPI documents them). The edge-facing ones are in
// contracts/firmware.ts, shared with the edge.
import Type from 'typebox';
import { FIRMWARE_JOB_STATES, PROFILE_PATTERN, Sha256Hex, VERSION_PATTERN } from '../../contracts/firmware.js';
import { EDGE_ID_PATTERN } from '../edges/schemas.js';
import { DeviceId, Tag } from '../devices/schemas.js';
import { IsoTime, NextCursor, NullableIsoTime, nullable, PageQuery } from '../http/schemas.js';

export const CAMPAIGN_STATES = ['draft', 'running', 'paused', 'halted', 'aborted', 'completed'] as const;
export const CAMPAIGN_STATE_LABELS: Record<(typeof CAMPAIGN_STATES)[number], string> = {
  draft: '草稿',
  running: '升级中',
  paused: '已暂停',
  halted: '已熔断',
  aborted: '已中止',
  completed: '已完成',
};
export const JOB_STATE_LABELS: Record<(typeof FIRMWARE_JOB_STATES)[number], string> = {
  pending: '待升级',
  downloading: '下载中',
  verifying: '校验中',
  installing: '安装中',
  succeeded: '成功',
  failed: '失败',
  cancelled: '已取消',
};

export const KeyIdParams = Type.Object({ id: Type.String({ pattern: '^[0-9a-f]{16}$', description: 'keyIdOf(public key)' }) }, { additionalProperties: false });
export const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64, pattern: '^[0-9A-Za-z_-]+$' }) }, { additionalProperties: false });

export const AddKeyBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200, description: 'who holds the private key, e.g. "county release key 2026"' }),
    publicKey: Type.String({ minLength: 40, maxLength: 4096, description: 'Ed25519 public key, SPKI PEM (-----BEGIN PUBLIC KEY-----)' }),
  },
  { additionalProperties: false },
);

export const KeyJson = Type.Object(
  { keyId: Type.String(), name: Type.String(), publicKey: Type.String(), createdAt: IsoTime, createdBy: Type.String(), revokedAt: NullableIsoTime },
  { additionalProperties: false },
);

export const UploadQuery = Type.Object(
  {
    version: Type.String({ minLength: 1, maxLength: 64, pattern: VERSION_PATTERN }),
    profiles: Type.String({ minLength: 1, maxLength: 4096, description: 'comma-separated profile ids the image is for; gridsense-edge for the edge agent' }),
    sha256: Type.String({ pattern: '^[0-9a-fA-F]{64}$', description: 'SHA-256 of the image as the uploader computed it; the cloud recomputes it' }),
    signature: Type.Optional(Type.String({ maxLength: 200, description: 'Ed25519 signature over the manifest, base64 (gridsense firmware sign)' })),
    keyId: Type.Optional(Type.String({ pattern: '^[0-9a-f]{16}$', description: 'the signing key; any trusted key is tried when absent' })),
  },
  { additionalProperties: false },
);

export const ArtifactJson = Type.Object(
  {
    id: Type.String(),
    version: Type.String(),
    profiles: Type.Array(Type.String()),
    sha256: Sha256Hex,
    size: Type.Integer(),
    signature: Type.String(),
    keyId: Type.String(),
    createdAt: IsoTime,
    createdBy: Type.String(),
    downloadPath: Type.String({ description: 'where edges download it (edge token, Range supported)' }),
  },
  { additionalProperties: false },
);

const Window = Type.Object(
  { start: Type.String({ pattern: '^\\d{2}:\\d{2}$', examples: ['01:00'] }), end: Type.String({ pattern: '^\\d{2}:\\d{2}$', examples: ['05:00'] }) },
  { additionalProperties: false, description: "daily maintenance window in the edge's local time; the end may be past midnight" },
);

export const Selection = Type.Object(
  {
    edges: Type.Optional(Type.Array(Type.String({ pattern: EDGE_ID_PATTERN }), { minItems: 1, maxItems: 2000 })),
    towns: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 128 }), { minItems: 1, maxItems: 500 })),
    tags: Type.Optional(Type.Array(Tag, { minItems: 1, maxItems: 50 })),
    devices: Type.Optional(Type.Array(DeviceId, { minItems: 1, maxItems: 10_000 })),
  },
  { additionalProperties: false, description: "narrows the targets (the artifact's profile(s), active devices, live edges); every list given must match, any item of a list" },
);

export const CreateCampaignBody = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    artifactId: Type.String({ minLength: 1, maxLength: 64 }),
    target: Type.Optional(Selection),
    waves: Type.Optional(
      Type.Array(Type.Object({ share: Type.Number({ exclusiveMinimum: 0, maximum: 1 }) }, { additionalProperties: false }), {
        minItems: 1,
        maxItems: 20,
        description: 'cumulative shares, canary first, the last 1; default [0.05, 0.3, 1]',
      }),
    ),
    jitterMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 86_400_000, description: "each job starts at its wave's start + random(0, jitterMs)" })),
    window: Type.Optional(Window),
    failureThreshold: Type.Optional(Type.Number({ minimum: 0, maximum: 1, description: "a wave with more than this share of its jobs failed halts the campaign; default 0.2" })),
    soakMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 30 * 86_400_000, description: 'wait this long after a wave ends before the next starts' })),
    maxInFlightPerEdge: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000, description: 'at most this many of the campaign\'s jobs offered to one edge at a time' })),
    jobTimeoutMs: Type.Optional(Type.Integer({ minimum: 60_000, maximum: 30 * 86_400_000, description: 'a job without an outcome this long after its notBefore fails (GS_ERR_FIRMWARE_JOB_TIMEOUT)' })),
    start: Type.Optional(Type.Boolean({ description: 'start at once (else it stays a draft)' })),
  },
  { additionalProperties: false },
);

const Counts = Type.Object(
  Object.fromEntries([...FIRMWARE_JOB_STATES, 'total'].map((s) => [s, Type.Integer()])) as Record<(typeof FIRMWARE_JOB_STATES)[number] | 'total', ReturnType<typeof Type.Integer>>,
  { additionalProperties: false },
);

export const CampaignJson = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    state: Type.Enum(CAMPAIGN_STATES),
    stateLabel: Type.String({ description: 'in Chinese' }),
    artifact: Type.Object({ id: Type.String(), version: Type.String(), profiles: Type.Array(Type.String()) }, { additionalProperties: false }),
    targetKind: Type.Enum(['device', 'edge']),
    target: Selection,
    currentWave: nullable(Type.Integer({ description: 'index of the last wave released; null before the start' })),
    waves: Type.Array(
      Type.Object(
        {
          index: Type.Integer(),
          share: Type.Number(),
          size: Type.Integer(),
          startedAt: NullableIsoTime,
          finishedAt: NullableIsoTime,
          counts: Counts,
          failureRate: Type.Number(),
        },
        { additionalProperties: false },
      ),
    ),
    counts: Counts,
    failureReasons: Type.Array(Type.Object({ code: Type.String(), count: Type.Integer(), example: nullable(Type.String()) }, { additionalProperties: false })),
    jitterMs: Type.Integer(),
    window: nullable(Window),
    failureThreshold: Type.Number(),
    soakMs: Type.Integer(),
    maxInFlightPerEdge: nullable(Type.Integer()),
    jobTimeoutMs: nullable(Type.Integer()),
    haltedReason: nullable(Type.String()),
    createdAt: IsoTime,
    createdBy: Type.String(),
    startedAt: NullableIsoTime,
    finishedAt: NullableIsoTime,
    updatedAt: IsoTime,
  },
  { additionalProperties: false },
);

export const CampaignListQuery = Type.Object(
  { state: Type.Optional(Type.Enum(CAMPAIGN_STATES)), ...PageQuery },
  { additionalProperties: false },
);
export const CampaignList = Type.Object({ items: Type.Array(CampaignJson), nextCursor: NextCursor }, { additionalProperties: false });

export const JobJson = Type.Object(
  {
    id: Type.String(),
    campaignId: Type.String(),
    wave: Type.Integer(),
    targetKind: Type.Enum(['device', 'edge']),
    deviceId: nullable(Type.String()),
    edgeId: Type.String(),
    state: Type.Enum(FIRMWARE_JOB_STATES),
    stateLabel: Type.String({ description: 'in Chinese' }),
    releasedAt: NullableIsoTime,
    notBefore: NullableIsoTime,
    bytes: nullable(Type.Integer()),
    reason: nullable(Type.Object({ code: nullable(Type.String()), message: nullable(Type.String()) }, { additionalProperties: false })),
    runningVersion: nullable(Type.String()),
    updatedAt: IsoTime,
  },
  { additionalProperties: false },
);

export const JobListQuery = Type.Object(
  {
    state: Type.Optional(Type.Enum(FIRMWARE_JOB_STATES)),
    wave: Type.Optional(Type.Integer({ minimum: 0, maximum: 19 })),
    edge: Type.Optional(Type.String({ pattern: EDGE_ID_PATTERN })),
    ...PageQuery,
  },
  { additionalProperties: false },
);
export const JobList = Type.Object({ items: Type.Array(JobJson), nextCursor: NextCursor }, { additionalProperties: false });

export const ResumeBody = Type.Object(
  { overrideHalt: Type.Optional(Type.Boolean({ description: "admin only: resume a halted campaign, accepting the halted wave's failures" })) },
  { additionalProperties: false },
);

export const PROFILE_ITEM = new RegExp(PROFILE_PATTERN);
