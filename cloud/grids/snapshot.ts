import type { PathEntry } from './hierarchy.js';

/**
 * A grid as it was at one version: what an event keeps when it opens, so a later re-drawn boundary
 * or a renamed community does not rewrite where past events happened.
 */
export interface GridSnapshot {
  id: string;
  version: number;
  name: string;
  nameZh: string | null;
  /** Root (county) first, the grid itself last. */
  path: PathEntry[];
}

/** Where an alarm's location falls: the most specific grid (with its snapshot) and the town containing it. */
export interface Placement {
  gridId: string | null;
  townId: string | null;
  grid?: GridSnapshot | null;
}
