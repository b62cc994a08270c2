// Evidence storage: the bytes once per SHA-256 (checked: the hash matches, the bytes are a JPEG), the
// links from an edge's alarm to them, and the reads — an event's evidence list, one picture with the
// towns of the events it belongs to (for the caller's scope).
import type { Kysely } from 'kysely';
import { EVIDENCE_MAX_BYTES, type Evidence } from '../../contracts/alarm.js';
import { GsError } from '../../contracts/errors.js';
import { isJpeg, sha256Hex } from '../../contracts/jpeg.js';
import type { Database } from '../db/schema.js';
import { iso } from '../http/time.js';
import type { EvidenceJson } from './schemas.js';
import './tables.js';

/** Stores the bytes under their SHA-256; a second upload of the same bytes stores nothing. */
export async function storeBlob(db: Kysely<Database>, o: { sha256: string; bytes: Buffer; edgeId: string; now: number }): Promise<{ created: boolean; size: number }> {
  if (o.bytes.length > EVIDENCE_MAX_BYTES) throw new GsError('GS_ERR_BODY_TOO_LARGE', `evidence is larger than ${EVIDENCE_MAX_BYTES} bytes`);
  if (!isJpeg(o.bytes)) throw new GsError('GS_ERR_EVIDENCE_INVALID', 'the body is not a JPEG image (no FF D8 FF … FF D9)');
  const actual = sha256Hex(o.bytes);
  if (actual !== o.sha256) throw new GsError('GS_ERR_EVIDENCE_CHECKSUM', `the body's SHA-256 is ${actual}, not ${o.sha256}`, [{ path: '/sha256', message: 'must be the SHA-256 of the body' }]);
  const inserted = await db
    .insertInto('evidence_blobs')
    .values({ sha256: o.sha256, content_type: 'image/jpeg', size: o.bytes.length, data: o.bytes, edge_id: o.edgeId, created_at: o.now })
    .onConflict((oc) => oc.column('sha256').doNothing())
    .returning('sha256')
    .execute();
  return { created: inserted.length > 0, size: o.bytes.length };
}

/**
 * Links evidence to one of the edge's alarms (by the edge's alarm id); a link already there is a
 * duplicate. The alarm need not have arrived yet: a link is read through the alarm when it is.
 */
export async function linkEvidence(db: Kysely<Database>, o: { edgeId: string; alarmId: string; evidence: readonly Evidence[]; newId: () => string; now: number }): Promise<{ linked: number; duplicates: number }> {
  const unique = [...new Map(o.evidence.map((e) => [e.sha256, e])).values()];
  if (unique.length === 0) return { linked: 0, duplicates: 0 };
  const inserted = await db
    .insertInto('alarm_evidence')
    .values(
      unique.map((e) => ({
        id: o.newId(),
        edge_id: o.edgeId,
        alarm_id: o.alarmId,
        sha256: e.sha256,
        kind: e.kind,
        camera_id: e.cameraId,
        taken_at: e.takenAt,
        content_type: e.contentType,
        size: e.size,
        created_at: o.now,
      })),
    )
    .onConflict((oc) => oc.columns(['edge_id', 'alarm_id', 'sha256']).doNothing())
    .returning('id')
    .execute();
  return { linked: inserted.length, duplicates: o.evidence.length - inserted.length };
}

/** The evidence of every alarm linked to an event, oldest picture first. */
export async function evidenceOfEvent(db: Kysely<Database>, eventId: string): Promise<EvidenceJson[]> {
  const rows = await db
    .selectFrom('alarm_evidence as ae')
    .innerJoin('alarms', (j) => j.onRef('alarms.edge_id', '=', 'ae.edge_id').onRef('alarms.alarm_id', '=', 'ae.alarm_id'))
    .innerJoin('event_alarms', 'event_alarms.alarm_id', 'alarms.id')
    .leftJoin('evidence_blobs as b', (j) => j.onRef('b.sha256', '=', 'ae.sha256').onRef('b.edge_id', '=', 'ae.edge_id'))
    .select(['ae.id', 'ae.kind', 'ae.camera_id', 'ae.taken_at', 'ae.content_type', 'ae.size', 'ae.sha256', 'alarms.id as alarm_cloud_id', 'b.sha256 as blob'])
    .where('event_alarms.event_id', '=', eventId)
    .orderBy('ae.taken_at')
    .orderBy('ae.id')
    .execute();
  return rows.map((r) => ({
    id: r.id,
    alarmId: r.alarm_cloud_id,
    kind: r.kind as Evidence['kind'],
    cameraId: r.camera_id,
    takenAt: iso(r.taken_at),
    contentType: r.content_type,
    sha256: r.sha256,
    size: r.size,
    available: r.blob !== null,
    url: `/api/v1/evidence/${r.id}`,
  }));
}

/**
 * One piece of evidence with its bytes (null when they have not arrived) and the towns of the events
 * its alarm belongs to (null: an event outside every town); undefined when there is no such evidence.
 */
export async function evidenceToServe(db: Kysely<Database>, id: string): Promise<{ sha256: string; data: Buffer | null; towns: Array<string | null> } | undefined> {
  const link = await db
    .selectFrom('alarm_evidence as ae')
    .leftJoin('evidence_blobs as b', (j) => j.onRef('b.sha256', '=', 'ae.sha256').onRef('b.edge_id', '=', 'ae.edge_id'))
    .select(['ae.edge_id', 'ae.alarm_id', 'ae.sha256', 'b.data'])
    .where('ae.id', '=', id)
    .executeTakeFirst();
  if (!link) return undefined;
  const events = await db
    .selectFrom('alarms')
    .innerJoin('event_alarms', 'event_alarms.alarm_id', 'alarms.id')
    .innerJoin('events', 'events.id', 'event_alarms.event_id')
    .select(['events.town_id'])
    .where('alarms.edge_id', '=', link.edge_id)
    .where('alarms.alarm_id', '=', link.alarm_id)
    .execute();
  const data = link.data === null || link.data === undefined ? null : Buffer.from(link.data);
  return { sha256: link.sha256, data, towns: events.map((e) => e.town_id) };
}
