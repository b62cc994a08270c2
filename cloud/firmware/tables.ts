// The firmware tables (migration 0008) as Kysely sees them. They are added to the shared Database
// type here, with `withTables`, so this context does not widen cloud/db/schema.ts for everyone.
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';

export interface FirmwareKeysTable {
  /** keyIdOf(public key). */
  id: string;
  name: string;
  /** SPKI PEM. */
  public_key: string;
  created_at: number;
  created_by: string;
  revoked_at: number | null;
}

export interface FirmwareArtifactsTable {
  id: string;
  version: string;
  /** JSON array of profile ids, as signed. */
  profiles: string;
  sha256: string;
  size: number;
  /** Ed25519 over signingPayload(manifest), base64. */
  signature: string;
  key_id: string;
  chunk_size: number;
  created_at: number;
  created_by: string;
}

export interface FirmwareArtifactProfilesTable {
  profile: string;
  version: string;
  artifact_id: string;
}

export interface FirmwareChunksTable {
  artifact_id: string;
  idx: number;
  data: Buffer;
}

export type CampaignState = 'draft' | 'running' | 'paused' | 'halted' | 'aborted' | 'completed';

export interface FirmwareCampaignsTable {
  id: string;
  name: string;
  artifact_id: string;
  target_kind: 'device' | 'edge';
  /** JSON: CampaignSelection. */
  selection: string;
  /** JSON: StoredWave[]. */
  waves: string;
  jitter_ms: number;
  window_start: string | null;
  window_end: string | null;
  failure_threshold: number;
  soak_ms: number;
  max_in_flight_per_edge: number | null;
  job_timeout_ms: number | null;
  state: CampaignState;
  current_wave: number;
  waived_wave: number | null;
  halted_reason: string | null;
  created_at: number;
  created_by: string;
  started_at: number | null;
  finished_at: number | null;
  updated_at: number;
}

export interface FirmwareJobsTable {
  id: string;
  campaign_id: string;
  wave: number;
  target_kind: 'device' | 'edge';
  device_id: string | null;
  edge_id: string;
  state: string;
  jitter_ms: number;
  released_at: number | null;
  not_before: number | null;
  bytes: number | null;
  reason_code: string | null;
  reason_message: string | null;
  running_version: string | null;
  reported_at: number | null;
  created_at: number;
  updated_at: number;
}

export interface FirmwareEdgesTable {
  edge_id: string;
  version: number;
  changed_at: number;
}

// A type alias, not an interface: withTables wants an index signature.
export type FirmwareTables = {
  firmware_keys: FirmwareKeysTable;
  firmware_artifacts: FirmwareArtifactsTable;
  firmware_artifact_profiles: FirmwareArtifactProfilesTable;
  firmware_chunks: FirmwareChunksTable;
  firmware_campaigns: FirmwareCampaignsTable;
  firmware_jobs: FirmwareJobsTable;
  firmware_edges: FirmwareEdgesTable;
};

export type FwDb = Kysely<Database & FirmwareTables>;

/** The shared database handle, typed with the firmware tables too. */
export function fwDb(db: Kysely<Database>): FwDb {
  return db.withTables<FirmwareTables>() as FwDb;
}

/** One wave as stored: its cumulative share, how many jobs it got, when it began and ended. */
export interface StoredWave {
  share: number;
  size: number;
  startedAt: number | null;
  finishedAt: number | null;
}

/** What a campaign targets, narrowed as asked (every list present must match; within a list, any). */
export interface CampaignSelection {
  edges?: string[];
  towns?: string[];
  tags?: string[];
  devices?: string[];
}
