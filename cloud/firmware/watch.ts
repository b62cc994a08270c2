// Long-polls of GET /edges/firmware/jobs wait here for their edge's counter (firmware_edges) to move,
// or for the edge to be revoked. A change committed through this instance wakes its waiters at once
// (notify); changes made through another instance are found by one shared poll of the waiting edges
// every `pollMs`, and on PostgreSQL at once through NOTIFY (the shared EdgeVersionWatch).
import type { OpenDatabase } from '../db/open.js';
import { EdgeVersionWatch } from '../db/edge-version-watch.js';
import { FIRMWARE_CHANNEL } from './changes.js';
import type { FwDb } from './tables.js';

export interface FirmwareWatchOptions {
  db: FwDb;
  pollMs: number;
  listen?: OpenDatabase['listen'];
  onError?: (err: unknown) => void;
}

export class FirmwareWatch extends EdgeVersionWatch {
  constructor(o: FirmwareWatchOptions) {
    super({
      ...o,
      channel: FIRMWARE_CHANNEL,
      read: async (ids) => {
        const rows = await o.db
          .selectFrom('edges')
          .leftJoin('firmware_edges', 'firmware_edges.edge_id', 'edges.id')
          .select(['edges.id as id', 'edges.revoked_at as revokedAt', 'firmware_edges.version as version'])
          .where('edges.id', 'in', ids)
          .execute();
        const current = new Map(rows.map((r) => [r.id, r]));
        // A revoked (or vanished) edge wakes too: its next request is refused.
        return (edgeId, version) => {
          const r = current.get(edgeId);
          return !r || r.revokedAt !== null || Number(r.version ?? 0) !== version;
        };
      },
    });
  }
}
