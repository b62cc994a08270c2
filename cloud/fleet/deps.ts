import type { Kysely } from 'kysely';
import type { Clock } from '../../contracts/clock.js';
import type { ProfileLibrary } from '../../device-profiles/library.js';
import type { Database } from '../db/schema.js';
import type { GridDirectory } from '../grids/directory.js';
import type { RuleCatalog } from '../devices/rules.js';

/** What the fleet's services use: the database, time, ids, grids, the profile and rule libraries. */
export interface FleetDeps {
  db: Kysely<Database>;
  clock: Clock;
  newId: () => string;
  grids: GridDirectory;
  profiles: ProfileLibrary;
  rules: RuleCatalog;
}

/** The grid and town a device sits in: from its location, else (no location yet) its edge's town. */
export function placeDevice(grids: GridDirectory, location: { lon: number; lat: number } | null | undefined, edgeTown: string | null): { gridId: string | null; townId: string | null } {
  if (!location) return { gridId: null, townId: edgeTown };
  const all = grids.containing(location.lon, location.lat);
  return { gridId: all[0]?.id ?? null, townId: all.find((g) => g.level === 'town')?.id ?? null };
}
