// The evidence tables (migration 0010) added to the database's type by module augmentation, so the
// evidence context brings its own tables without editing the shared schema file.

export interface EvidenceBlobsTable {
  /** Lower-case hex SHA-256 of `data`: the blob's address. */
  sha256: string;
  content_type: string;
  size: number;
  data: Buffer;
  /** The edge that uploaded it first. */
  edge_id: string;
  created_at: number;
}

export interface AlarmEvidenceTable {
  id: string;
  edge_id: string;
  /** The edge's alarm id (alarms.alarm_id). */
  alarm_id: string;
  sha256: string;
  kind: string;
  camera_id: string;
  taken_at: number;
  content_type: string;
  size: number;
  created_at: number;
}

declare module '../db/schema.js' {
  interface Database {
    evidence_blobs: EvidenceBlobsTable;
    alarm_evidence: AlarmEvidenceTable;
  }
}
