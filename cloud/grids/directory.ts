import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { buildGridIndex, type GridIndex } from './locate.js';
import { loadLocatableGrids, type LocatableGrid } from './service.js';

/**
 * The grids in memory, indexed for point lookups; ingest asks it for every alarm that opens an event.
 * `reload()` after grids change. With several cloud instances, the others learn of an import through
 * the event bus in a later issue; until then each reloads on start.
 */
export class GridDirectory {
  private index: GridIndex<LocatableGrid> = buildGridIndex<LocatableGrid>([]);

  constructor(private readonly db: Kysely<Database>) {}

  async reload(): Promise<void> {
    this.index = buildGridIndex(await loadLocatableGrids(this.db));
  }

  get size(): number {
    return this.index.size;
  }

  locate(lon: number, lat: number): LocatableGrid | null {
    return this.index.locate(lon, lat);
  }

  containing(lon: number, lat: number): LocatableGrid[] {
    return this.index.containing(lon, lat);
  }
}
