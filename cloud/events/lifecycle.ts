// The grid event's closed loop as an explicit state machine (信息收集 → 分流交办 → 督办 → 处置办理 →
// 结果反馈 → 工作考核). Pure: (event, action, who, now) → the new status and what to record, or a refusal
// that names the actions the event does allow. Routes, the escalation sweep and alarm clears all move
// events through `transition`, so no path can skip a step.
import { GsError } from '../../contracts/errors.js';
import { EVENT_STATUSES, type EventStatus } from './status.js';

/** What someone (or the system) does to an event, with its Chinese label. */
export const EVENT_ACTIONS = {
  accept: '受理',
  dispatch: '分流交办',
  start: '开始处置',
  resolve: '办结',
  verify: '核查通过',
  close: '归档',
  return: '退回',
  escalate: '督办',
} as const;
export type EventAction = keyof typeof EVENT_ACTIONS;
export const EVENT_ACTION_CODES = Object.keys(EVENT_ACTIONS) as EventAction[];

/**
 * Which action leads from which statuses to where. `return` (退回) sends work back to the dispatcher:
 * a department that is not the right one, or a verifier who finds the result wanting. `escalate`
 * (督办) is what supervision does to any open event that is late; the dispatcher then takes it on again.
 */
const MOVES: Record<EventAction, { from: readonly EventStatus[]; to: EventStatus }> = {
  accept: { from: ['reported', 'escalated'], to: 'accepted' },
  dispatch: { from: ['accepted', 'returned', 'escalated'], to: 'dispatched' },
  start: { from: ['dispatched', 'escalated'], to: 'handling' },
  resolve: { from: ['handling', 'escalated'], to: 'resolved' },
  verify: { from: ['resolved'], to: 'verified' },
  close: { from: ['verified'], to: 'closed' },
  return: { from: ['dispatched', 'handling', 'resolved'], to: 'returned' },
  escalate: { from: ['reported', 'accepted', 'dispatched', 'handling', 'returned'], to: 'escalated' },
};

export const OPEN_STATUSES: readonly EventStatus[] = (Object.keys(EVENT_STATUSES) as EventStatus[]).filter((s) => s !== 'closed');

export interface Assignee {
  kind: 'department' | 'worker';
  id: string;
}

export interface TransitionRequest {
  action: EventAction;
  /** Who: a user or key name, or 'system' for the sweep and alarm clears. */
  actor: string;
  /** Why; required where the loop needs a reason on record (return, resolve, escalate). */
  note?: string;
  /** Required by dispatch: the department or grid worker the event goes to. */
  assignee?: Assignee;
  attachments?: Array<{ name: string; url: string }>;
}

export interface EventLifecycleView {
  status: EventStatus;
  assignee: Assignee | null;
}

export interface TransitionResult {
  from: EventStatus;
  to: EventStatus;
  assignee: Assignee | null;
  /** Timestamps the event keeps per step, for the statistics (mean time to accept, to resolve). */
  stamps: Partial<Record<'acceptedAt' | 'dispatchedAt' | 'resolvedAt' | 'closedAt' | 'escalatedAt', number>>;
}

const NEEDS_NOTE: readonly EventAction[] = ['return', 'resolve', 'escalate'];

/** The actions `status` allows, in loop order. */
export function allowedActions(status: EventStatus): EventAction[] {
  return EVENT_ACTION_CODES.filter((a) => MOVES[a].from.includes(status));
}

/** Applies one action, or throws GS_ERR_EVENT_TRANSITION (409) / GS_ERR_VALIDATION (400). */
export function transition(event: EventLifecycleView, req: TransitionRequest, now: number): TransitionResult {
  const move = MOVES[req.action];
  if (!move.from.includes(event.status)) {
    const allowed = allowedActions(event.status);
    throw new GsError(
      'GS_ERR_EVENT_TRANSITION',
      `cannot ${req.action} (${EVENT_ACTIONS[req.action]}) an event that is ${event.status} (${EVENT_STATUSES[event.status]}); allowed: ${allowed.join(', ') || 'none (closed)'}`,
      [{ path: '/action', message: `allowed from ${event.status}: ${allowed.join(', ') || 'none'}` }],
    );
  }
  if (NEEDS_NOTE.includes(req.action) && !req.note?.trim()) {
    throw new GsError('GS_ERR_VALIDATION', `${req.action} needs a note saying why`, [{ path: '/note', message: `required for ${req.action}` }]);
  }
  if (req.action === 'dispatch' && !req.assignee) {
    throw new GsError('GS_ERR_VALIDATION', 'dispatch needs an assignee (a department or a grid worker)', [{ path: '/assignee', message: 'required for dispatch' }]);
  }
  const stamps: TransitionResult['stamps'] = {};
  if (move.to === 'accepted') stamps.acceptedAt = now;
  if (move.to === 'dispatched') stamps.dispatchedAt = now;
  if (move.to === 'resolved') stamps.resolvedAt = now;
  if (move.to === 'closed') stamps.closedAt = now;
  if (move.to === 'escalated') stamps.escalatedAt = now;
  // A return hands the work back: nobody holds it until the dispatcher sends it out again.
  const assignee = req.action === 'dispatch' ? req.assignee! : req.action === 'return' ? null : event.assignee;
  return { from: event.status, to: move.to, assignee, stamps };
}
