import type { Kysely } from 'kysely';
import type { Clock } from '../../contracts/clock.js';
import type { Database } from '../db/schema.js';
import { pathOf, type GridNode } from './hierarchy.js';
import { buildGridIndex, type GridIndex } from './locate.js';
import { currentVersion, loadLocatableGrids, type LocatableGrid } from './service.js';
import type { Placement } from './snapshot.js';

/** How often (ms, injected clock) an instance asks whether another instance imported grids. */
export const STALE_CHECK_MS = 2000;

/**
 * The current grid version in memory, indexed for point lookups; ingest asks it for every alarm that
 * opens an event. `reload()` after an import on this instance; `refreshIfStale()` (at most every
 * STALE_CHECK_MS, one indexed query) picks up an import another instance made.
 */
export class GridDirectory {
  private index: GridIndex<LocatableGrid> = buildGridIndex<LocatableGrid>([]);
  private nodes = new Map<string, GridNode>();
  private loadedVersion = 0;
  private checkedAt = -Infinity;
  /** The last past version asked for, kept: "as of" lookups tend to repeat. */
  private past: { version: number; index: GridIndex<LocatableGrid> } | null = null;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
  ) {}

  async reload(): Promise<void> {
    const version = await currentVersion(this.db);
    const grids = await loadLocatableGrids(this.db, version);
    this.index = buildGridIndex(grids);
    this.nodes = new Map(grids.map((g) => [g.id, { id: g.id, level: g.level, name: g.name, nameZh: g.nameZh, parentId: g.parentId }]));
    this.loadedVersion = version;
    this.checkedAt = this.clock.now();
  }

  async refreshIfStale(): Promise<void> {
    const now = this.clock.now();
    if (now - this.checkedAt < STALE_CHECK_MS && now >= this.checkedAt) return;
    this.checkedAt = now;
    if ((await currentVersion(this.db)) !== this.loadedVersion) await this.reload();
  }

  get size(): number {
    return this.index.size;
  }

  get version(): number {
    return this.loadedVersion;
  }

  locate(lon: number, lat: number): LocatableGrid | null {
    return this.index.locate(lon, lat);
  }

  containing(lon: number, lat: number): LocatableGrid[] {
    return this.index.containing(lon, lat);
  }

  /** The most specific grid with its snapshot (version, names, path) and the town containing the point. */
  place(lon: number, lat: number): Placement {
    const all = this.index.containing(lon, lat);
    const g = all[0];
    return {
      gridId: g?.id ?? null,
      townId: all.find((x) => x.level === 'town')?.id ?? null,
      // The version in force (not the grid's own revision): which map placed it; GET /grids/{id}?version= shows it.
      grid: g ? { id: g.id, version: this.loadedVersion, name: g.name, nameZh: g.nameZh, path: pathOf(g.id, this.nodes) } : null,
    };
  }

  /** The grids of a past version containing a point, most specific first. */
  async containingAt(version: number, lon: number, lat: number): Promise<LocatableGrid[]> {
    if (version === this.loadedVersion) return this.containing(lon, lat);
    if (this.past?.version !== version) this.past = { version, index: buildGridIndex(await loadLocatableGrids(this.db, version)) };
    return this.past.index.containing(lon, lat);
  }
}
