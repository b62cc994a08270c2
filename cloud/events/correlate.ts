// The correlator: one alarm transition + the event open for its incident (if any) → what to do to
// the events. Pure — no I/O, time comes in as ctx.now — so it is tested exhaustively without a
// database and could run over stored history. The caller loads the open event, asks, and applies.
//
// Two alarms are one incident when (1) device and alarm type are the same while the event is open
// (dedup), or (2) the category has a join window and the alarm falls in the same grid within that
// window of the event's first alarm (correlation: smoke + heat + gas in one building are one fire).
// The window is measured on alarm time (the edges' clock), not arrival: alarms an edge replays after
// an outage join or not as they would have live. It is anchored at the first alarm, so a long storm
// does not chain into one endless event. A closed event never absorbs anything.
import type { AlarmEnvelope as Envelope } from '../../contracts/alarm.js';
import type { Location } from '../../contracts/geo.js';
import type { PathEntry } from '../grids/hierarchy.js';
import type { GridSnapshot } from '../grids/snapshot.js';
import { categoryFor, categoryLabel, deadlineFor, joinWindowMs, priorityFor, priorityLabel, type EventPolicy, type Priority } from './policy.js';
import type { EventStatus } from './status.js';

/** What the correlator needs to know about an open event. */
export interface EventSummary {
  id: string;
  category: string;
  priority: Priority;
  occurrenceCount: number;
  /** Linked alarms not yet cleared. */
  activeAlarms: number;
  openedAt: number;
  deadlineAt: number;
  clearedAt: number | null;
}

/** An event an alarm of another device might join: same category, same grid, open, near in time. */
export interface JoinCandidate extends EventSummary {
  gridId: string | null;
  /** Alarm time of the event's first alarm: the window's anchor. */
  incidentAt: number;
  closed: boolean;
}

export interface NewEvent {
  dedupKey: string;
  edgeId: string;
  deviceId: string;
  alarmType: string;
  gridId: string | null;
  townId: string | null;
  /** The grid as it is now (version, names, path): the event keeps it whatever is re-drawn later. */
  gridVersion: number | null;
  gridName: string | null;
  gridNameZh: string | null;
  gridPath: PathEntry[] | null;
  /** Alarm time of the opening alarm. */
  incidentAt: number;
  category: string;
  priority: Priority;
  status: EventStatus;
  occurrenceCount: number;
  activeAlarms: number;
  openedAt: number;
  deadlineAt: number;
  title: string;
  location: Location | null;
  site: string | null;
}

export type TimelineKind = 'opened' | 'alarm_repeated' | 'alarm_joined' | 'alarm_updated' | 'alarm_cleared';

export interface TimelineDraft {
  kind: TimelineKind;
  /** 'system' for what the cloud decided, the edge id for what an edge reported. */
  actor: string;
  note: string;
  data: Record<string, unknown>;
}

export interface EventPatch {
  updatedAt: number;
  priority?: Priority;
  deadlineAt?: number;
  occurrenceCount?: number;
  activeAlarms?: number;
  clearedAt?: number | null;
}

export type Decision =
  | { kind: 'open'; event: NewEvent; timeline: TimelineDraft }
  | { kind: 'update'; eventId: string; patch: EventPatch; linkAlarm: boolean; timeline: TimelineDraft }
  | { kind: 'clear-recorded'; eventId: string; patch: EventPatch; timeline: TimelineDraft }
  | { kind: 'ignore'; reason: string };

export interface CorrelateContext {
  /** The most specific grid containing the alarm's location, if it has one. */
  gridId: string | null;
  /** The town-level grid containing it: the governance platform's main filter and statistics key. */
  townId?: string | null;
  /** The most specific grid's snapshot (version, names, path), kept by an event that opens. */
  grid?: GridSnapshot | null;
  /** For a raise with no open event of its own: the open event of its category and grid nearest in time, if any. */
  joinCandidate?: JoinCandidate | null;
  now: number;
  policy: EventPolicy;
  /** The edge that reported the transition (the timeline's actor). */
  edgeId: string;
  /** Kind of the device's profile (water_level, smoke_detector…), when the cloud knows it. */
  profileKind?: string;
}

/** Two alarms are one incident while an event is open when device and alarm type are the same. */
export function dedupKeyOf(deviceId: string, alarmType: string): string {
  // The type is snake_case, so '#' cannot occur in it and the key is unambiguous.
  return `${deviceId}#${alarmType}`;
}

export function correlate(t: Envelope, open: EventSummary | null, ctx: CorrelateContext): Decision {
  switch (t.action) {
    case 'raise':
      if (open) return repeat(t, open, ctx);
      if (ctx.joinCandidate && joins(t, ctx.joinCandidate, ctx)) return join(t, ctx.joinCandidate, ctx);
      return openEvent(t, ctx);
    case 'update':
      return open ? escalate(t, open, ctx) : { kind: 'ignore', reason: 'the alarm has no open event' };
    case 'clear':
      return open ? clear(t, open, ctx) : { kind: 'ignore', reason: 'the alarm has no open event' };
  }
}

function transitionData(t: Envelope): Record<string, unknown> {
  const d: Record<string, unknown> = { alarmId: t.alarmId, seq: t.seq, severity: t.severity, ts: t.ts };
  if (t.value !== undefined) d.value = t.value;
  if (t.unit !== undefined) d.unit = t.unit;
  if (t.threshold !== undefined) d.threshold = t.threshold;
  if (t.message !== undefined) d.message = t.message;
  return d;
}

function openEvent(t: Envelope, ctx: CorrelateContext): Decision {
  const { policy, now } = ctx;
  const category = categoryFor(policy, t.type, ctx.profileKind);
  const priority = priorityFor(policy, t.severity, t.site);
  const label = categoryLabel(policy, category);
  return {
    kind: 'open',
    event: {
      dedupKey: dedupKeyOf(t.deviceId, t.type),
      edgeId: ctx.edgeId,
      deviceId: t.deviceId,
      alarmType: t.type,
      gridId: ctx.gridId,
      townId: ctx.townId ?? null,
      gridVersion: ctx.grid?.version ?? null,
      gridName: ctx.grid?.name ?? null,
      gridNameZh: ctx.grid?.nameZh ?? null,
      gridPath: ctx.grid?.path ?? null,
      incidentAt: t.ts,
      category,
      priority,
      status: 'reported',
      occurrenceCount: 1,
      activeAlarms: 1,
      openedAt: now,
      deadlineAt: deadlineFor(policy, category, priority, now),
      title: `${label} ${t.type} · ${t.deviceId}`,
      location: t.location ?? null,
      site: t.site ?? null,
    },
    timeline: {
      kind: 'opened',
      actor: 'system',
      note: `${label}, priority ${priority} (${priorityLabel(policy, priority)})${t.message ? `: ${t.message}` : ''}`,
      data: { ...transitionData(t), gridId: ctx.gridId, category, priority },
    },
  };
}

/** A more urgent priority shortens the deadline; a less urgent one never lengthens it. */
function escalation(t: Envelope, open: EventSummary, ctx: CorrelateContext): Pick<EventPatch, 'priority' | 'deadlineAt'> | null {
  const p = priorityFor(ctx.policy, t.severity, t.site);
  if (p >= open.priority) return null;
  return { priority: p, deadlineAt: Math.min(open.deadlineAt, deadlineFor(ctx.policy, open.category, p, open.openedAt)) };
}

function repeat(t: Envelope, open: EventSummary, ctx: CorrelateContext): Decision {
  const up = escalation(t, open, ctx);
  const occurrenceCount = open.occurrenceCount + 1;
  return {
    kind: 'update',
    eventId: open.id,
    linkAlarm: true,
    // Raised again: the incident is active, whatever cleared before.
    patch: { updatedAt: ctx.now, occurrenceCount, activeAlarms: open.activeAlarms + 1, clearedAt: null, ...up },
    timeline: {
      kind: 'alarm_repeated',
      actor: ctx.edgeId,
      note: `occurrence ${occurrenceCount}${up ? `; priority raised to ${up.priority} (${priorityLabel(ctx.policy, up.priority!)})` : ''}${t.message ? `: ${t.message}` : ''}`,
      data: transitionData(t),
    },
  };
}

/**
 * Whether a raise of another device joins `c`: the category has a join window, the alarm is in the
 * same (known) grid and category, the event is not closed, and the alarm's time is within the window
 * of the event's first alarm (either side: a late-delivered earlier alarm joins too).
 */
export function joins(t: Envelope, c: JoinCandidate, ctx: CorrelateContext): boolean {
  const category = categoryFor(ctx.policy, t.type, ctx.profileKind);
  const window = joinWindowMs(ctx.policy, category);
  return window > 0 && ctx.gridId !== null && !c.closed && c.gridId === ctx.gridId && c.category === category && Math.abs(t.ts - c.incidentAt) <= window;
}

function join(t: Envelope, c: JoinCandidate, ctx: CorrelateContext): Decision {
  const up = escalation(t, c, ctx);
  const occurrenceCount = c.occurrenceCount + 1;
  const minutes = joinWindowMs(ctx.policy, c.category) / 60_000;
  return {
    kind: 'update',
    eventId: c.id,
    linkAlarm: true,
    // Another sensor of the same incident: it is active again if it had cleared.
    patch: { updatedAt: ctx.now, occurrenceCount, activeAlarms: c.activeAlarms + 1, clearedAt: null, ...up },
    timeline: {
      kind: 'alarm_joined',
      actor: ctx.edgeId,
      note: `${t.type} of ${t.deviceId} joined: ${categoryLabel(ctx.policy, c.category)} in the same grid within ${minutes} min; occurrence ${occurrenceCount}${up ? `; priority raised to ${up.priority} (${priorityLabel(ctx.policy, up.priority!)})` : ''}${t.message ? `: ${t.message}` : ''}`,
      data: { ...transitionData(t), deviceId: t.deviceId, alarmType: t.type, gridId: ctx.gridId },
    },
  };
}

function escalate(t: Envelope, open: EventSummary, ctx: CorrelateContext): Decision {
  const up = escalation(t, open, ctx);
  if (!up) return { kind: 'ignore', reason: 'the update does not change the event' };
  return {
    kind: 'update',
    eventId: open.id,
    linkAlarm: false,
    patch: { updatedAt: ctx.now, ...up },
    timeline: {
      kind: 'alarm_updated',
      actor: ctx.edgeId,
      note: `severity ${t.severity}: priority raised to ${up.priority} (${priorityLabel(ctx.policy, up.priority!)})`,
      data: transitionData(t),
    },
  };
}

function clear(t: Envelope, open: EventSummary, ctx: CorrelateContext): Decision {
  const remaining = Math.max(0, open.activeAlarms - 1);
  return {
    kind: 'clear-recorded',
    eventId: open.id,
    // The event stays open (closing it is the governance loop's job); it records that the sensor
    // condition is over once every linked alarm has cleared.
    patch: { updatedAt: ctx.now, activeAlarms: remaining, clearedAt: remaining === 0 ? ctx.now : open.clearedAt },
    timeline: {
      kind: 'alarm_cleared',
      actor: ctx.edgeId,
      note: remaining === 0 ? `cleared${t.message ? `: ${t.message}` : ''}` : `cleared; ${remaining} alarm(s) of this event still active`,
      data: transitionData(t),
    },
  };
}
