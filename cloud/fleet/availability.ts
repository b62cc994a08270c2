// Time-weighted availability from the compact health history (one row per state change). Pure.
// A state holds from its row to the next; time while disabled or decommissioned does not count;
// `unknown` counts against availability (nobody knows the sensor works), and so does any time after
// `unknownFrom` — the moment the device's edge fell silent, for an edge that still is.

export interface StateSample {
  at: number;
  state: string;
}

export interface StateTotals {
  online: number;
  offline: number;
  unknown: number;
}

export const emptyTotals = (): StateTotals => ({ online: 0, offline: 0, unknown: 0 });

/**
 * Milliseconds in each state within [from, to). `samples` are one device's rows in time order; the
 * last row before `from` (if any) gives the state at `from`; before the first row nothing counts.
 */
export function stateTotals(samples: readonly StateSample[], from: number, to: number, unknownFrom: number | null = null): StateTotals {
  const t = emptyTotals();
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i]!;
    const start = Math.max(s.at, from);
    const end = Math.min(samples[i + 1]?.at ?? to, to);
    if (end <= start) continue;
    if (s.state === 'online' || s.state === 'offline') {
      const cut = unknownFrom === null ? end : Math.min(Math.max(unknownFrom, start), end);
      t[s.state] += cut - start;
      t.unknown += end - cut;
    } else if (s.state === 'unknown' || s.state === 'starting') {
      t.unknown += end - start;
    }
  }
  return t;
}

export function addTotals(into: StateTotals, t: StateTotals): StateTotals {
  into.online += t.online;
  into.offline += t.offline;
  into.unknown += t.unknown;
  return into;
}

/** Online share of the counted time, in percent with two decimals; null when nothing was counted. */
export function availabilityPercent(t: StateTotals): number | null {
  const all = t.online + t.offline + t.unknown;
  return all === 0 ? null : Math.round((t.online / all) * 10_000) / 100;
}
