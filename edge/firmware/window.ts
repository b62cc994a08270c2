// A job's maintenance window: a daily HH:MM–HH:MM span in the edge's local time, the end possibly past
// midnight (22:00–04:00). A job starts only inside it; one under way is let finish (cutting a flash
// write short is worse than running past the window). start == end means all day.
import type { FirmwareJob } from '../../contracts/firmware.js';

export type MaintenanceWindow = NonNullable<FirmwareJob['window']>;

const DAY_MS = 86_400_000;
const MIN_MS = 60_000;

/** The edge's offset from UTC in minutes at `ms`: the injected one, else the system time zone's. */
export function utcOffsetAt(ms: number, utcOffsetMinutes?: number): number {
  return utcOffsetMinutes ?? -new Date(ms).getTimezoneOffset();
}

function hhmm(s: string): number {
  const [h, m] = s.split(':').map(Number) as [number, number];
  return (h % 24) * 60 + (m % 60);
}

/** Milliseconds from `ms` until the window next opens; 0 when `ms` is inside it (or there is none). */
export function msUntilWindow(ms: number, window: MaintenanceWindow | undefined, utcOffsetMinutes?: number): number {
  if (!window) return 0;
  const start = hhmm(window.start);
  const end = hhmm(window.end);
  if (start === end) return 0;
  const localMs = ms + utcOffsetAt(ms, utcOffsetMinutes) * MIN_MS;
  const dayMs = ((localMs % DAY_MS) + DAY_MS) % DAY_MS;
  const now = dayMs / MIN_MS;
  const inside = start < end ? now >= start && now < end : now >= start || now < end;
  if (inside) return 0;
  const startMs = start * MIN_MS;
  return startMs > dayMs ? startMs - dayMs : DAY_MS - dayMs + startMs;
}
