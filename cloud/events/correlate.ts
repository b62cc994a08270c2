// The correlator: one alarm transition + the event open for its incident (if any) → what to do to
// the events. Pure — no I/O, time comes in as ctx.now — so it is tested exhaustively without a
// database and could run over stored history. The caller loads the open event, asks, and applies.
import type { AlarmEnvelope as Envelope } from '../../contracts/alarm.js';
import type { Location } from '../../contracts/geo.js';
import { categoryFor, categoryLabel, deadlineFor, priorityFor, priorityLabel, type EventPolicy, type Priority } from './policy.js';
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

export interface NewEvent {
  dedupKey: string;
  edgeId: string;
  deviceId: string;
  alarmType: string;
  gridId: string | null;
  townId: string | null;
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

export type TimelineKind = 'opened' | 'alarm_repeated' | 'alarm_updated' | 'alarm_cleared';

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
      return open ? repeat(t, open, ctx) : openEvent(t, ctx);
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
