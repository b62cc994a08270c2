// The county → town → village/community → grid hierarchy, walked up through parentId. Pure: works
// on whichever set of grids (the current one or a past version's) the caller holds.

export interface GridNode {
  id: string;
  level: string;
  name: string;
  nameZh: string | null;
  parentId: string | null;
}

/** One step of a grid's path, root (county) first. */
export interface PathEntry {
  id: string;
  level: string;
  name: string;
  nameZh: string | null;
}

/** Deeper than any real hierarchy (4 levels); stops a parent cycle from looping. */
const MAX_DEPTH = 16;

/** The grid and its ancestors, root first; [] when `id` is not in `byId`. */
export function pathOf(id: string, byId: ReadonlyMap<string, GridNode>): PathEntry[] {
  const path: PathEntry[] = [];
  const seen = new Set<string>();
  for (let g = byId.get(id); g && !seen.has(g.id) && path.length < MAX_DEPTH; g = g.parentId ? byId.get(g.parentId) : undefined) {
    seen.add(g.id);
    path.unshift({ id: g.id, level: g.level, name: g.name, nameZh: g.nameZh });
  }
  return path;
}

/** The town-level grid among `id` and its ancestors, or null (a county-level grid, or no town above it). */
export function townAbove(id: string, byId: ReadonlyMap<string, GridNode>): string | null {
  return pathOf(id, byId).find((p) => p.level === 'town')?.id ?? null;
}
