// `during:` — a window of local time that gates a rule: it raises only inside the window (door open
// between 22:00 and 06:00). Any condition may carry it. Pure: the time comes in as a number and the
// calendar is computed with Intl in the window's time zone (default Asia/Shanghai, no DST).
import Type from 'typebox';
import type { ErrorDetail } from '../../contracts/errors.js';

export const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
export type Weekday = (typeof WEEKDAYS)[number];
export const DEFAULT_TIMEZONE = 'Asia/Shanghai';

const HHMM = Type.String({ pattern: '^([01]\\d|2[0-3]):[0-5]\\d$', description: '24-hour local time, e.g. "22:00"' });

export const DuringSpec = Type.Object(
  {
    /** Start of the window, local time "HH:MM" (quote it in YAML). */
    between: HHMM,
    /** End of the window, local time; earlier than `between` means the window runs past midnight. */
    and: HHMM,
    /** Days the window starts on (default every day); a 22:00–06:00 window on fri ends sat 06:00. */
    days: Type.Optional(Type.Array(Type.Enum(WEEKDAYS), { minItems: 1, maxItems: 7 })),
    /** IANA time zone of the clock times (default Asia/Shanghai). */
    timezone: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  },
  { additionalProperties: false },
);
export type DuringSpec = Type.Static<typeof DuringSpec>;

export function scheduleProblems(spec: DuringSpec): ErrorDetail[] {
  const out: ErrorDetail[] = [];
  if (spec.between === spec.and) out.push({ path: '/and', message: `the window starts and ends at ${spec.and}; leave "during" out for a rule that runs all day` });
  if (spec.days && new Set(spec.days).size !== spec.days.length) out.push({ path: '/days', message: 'lists a day twice' });
  if (spec.timezone !== undefined && !validTimezone(spec.timezone)) {
    out.push({ path: '/timezone', message: `unknown time zone "${spec.timezone}"; use an IANA name such as ${DEFAULT_TIMEZONE}` });
  }
  return out;
}

export interface Schedule {
  /** Is `t` inside a window? */
  contains(t: number): boolean;
  /** The start of the window `t` is in, or undefined outside every window. */
  openOf(t: number): number | undefined;
  /** `t` when it is inside a window, else the start of the next window. */
  firstInside(t: number): number;
  /** "22:00–06:00 Asia/Shanghai", for messages. */
  readonly text: string;
}

/** `spec` must have passed scheduleProblems. */
export function compileSchedule(spec: DuringSpec): Schedule {
  const tz = spec.timezone ?? DEFAULT_TIMEZONE;
  const start = minutes(spec.between);
  const end = minutes(spec.and);
  const overnight = end < start;
  const days = new Set<number>((spec.days ?? WEEKDAYS).map((d) => WEEKDAYS.indexOf(d)));
  const clock = localClock(tz);

  const openOf = (t: number): number | undefined => {
    const l = clock.parts(t);
    const m = l.hour * 60 + l.minute;
    // The window t may be in started today (same-day window, or after the start of an overnight one)
    // or yesterday (the small hours of an overnight window).
    const startedToday = overnight ? m >= start : m >= start && m < end;
    const startedYesterday = overnight && m < end;
    const day = startedToday ? 0 : startedYesterday ? -1 : undefined;
    if (day === undefined) return undefined;
    const date = civil(l.year, l.month, l.day + day);
    return days.has(date.weekday) ? clock.toUtc(date.year, date.month, date.day, start) : undefined;
  };

  return {
    text: `${spec.between}–${spec.and}${spec.days ? ` ${spec.days.join(',')}` : ''} ${tz}`,
    contains: (t) => openOf(t) !== undefined,
    openOf,
    firstInside(t) {
      if (openOf(t) !== undefined) return t;
      const l = clock.parts(t);
      for (let k = 0; k <= 8; k++) {
        const date = civil(l.year, l.month, l.day + k);
        if (!days.has(date.weekday)) continue;
        const open = clock.toUtc(date.year, date.month, date.day, start);
        if (open >= t) return open;
      }
      return t; // unreachable: every schedule has a day a week
    },
  };
}

function minutes(hhmm: string): number {
  return Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
}

function validTimezone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** A calendar date normalised (day 0 → last of the previous month) with its weekday, 0 = Sunday. */
function civil(year: number, month: number, day: number): { year: number; month: number; day: number; weekday: number } {
  const d = new Date(Date.UTC(year, month - 1, day));
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate(), weekday: d.getUTCDay() };
}

interface LocalParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

const clocks = new Map<string, ReturnType<typeof makeClock>>();
function localClock(tz: string) {
  let c = clocks.get(tz);
  if (!c) clocks.set(tz, (c = makeClock(tz)));
  return c;
}

function makeClock(tz: string) {
  const fmt = new Intl.DateTimeFormat('en-US', {
    timeZone: tz, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric',
  });
  const parts = (t: number): LocalParts => {
    const out: Record<string, number> = {};
    for (const p of fmt.formatToParts(t)) if (p.type !== 'literal') out[p.type] = Number(p.value);
    return { year: out.year!, month: out.month!, day: out.day!, hour: out.hour!, minute: out.minute!, second: out.second! };
  };
  /** Local wall time minus UTC at instant t, in ms. */
  const offset = (t: number): number => {
    const l = parts(t);
    return Date.UTC(l.year, l.month - 1, l.day, l.hour, l.minute, l.second) - (t - (((t % 1000) + 1000) % 1000));
  };
  /** The instant a local wall time names (twice refined, so a DST change between guesses is followed). */
  const toUtc = (year: number, month: number, day: number, minuteOfDay: number): number => {
    const wall = Date.UTC(year, month - 1, day, 0, minuteOfDay);
    const first = wall - offset(wall);
    return wall - offset(first);
  };
  return { parts, toUtc };
}
