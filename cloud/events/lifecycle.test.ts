import t from 'tap';
import { GsError } from '../../contracts/errors.js';
import { allowedActions, EVENT_ACTION_CODES, transition, type EventAction, type TransitionRequest } from './lifecycle.js';
import { EVENT_STATUS_CODES, type EventStatus } from './status.js';

const NOW = Date.UTC(2026, 6, 1, 8, 0, 0);
const dept = { kind: 'department' as const, id: 'water-bureau' };

function req(action: EventAction): TransitionRequest {
  return { action, actor: 'dispatcher-li', note: 'because', ...(action === 'dispatch' ? { assignee: dept } : {}) };
}

// The whole table, written out by hand so a change to the machine has to change this too.
const LEGAL: Record<EventStatus, Partial<Record<EventAction, EventStatus>>> = {
  reported: { accept: 'accepted', escalate: 'escalated' },
  accepted: { dispatch: 'dispatched', escalate: 'escalated' },
  dispatched: { start: 'handling', return: 'returned', escalate: 'escalated' },
  handling: { resolve: 'resolved', return: 'returned', escalate: 'escalated' },
  resolved: { verify: 'verified', return: 'returned' },
  verified: { close: 'closed' },
  closed: {},
  returned: { dispatch: 'dispatched', escalate: 'escalated' },
  escalated: { accept: 'accepted', dispatch: 'dispatched', start: 'handling', resolve: 'resolved' },
};

t.test('every status × every action: legal moves land where the loop says, the rest are refused with 409', async (t) => {
  let legal = 0;
  let refused = 0;
  for (const status of EVENT_STATUS_CODES) {
    for (const action of EVENT_ACTION_CODES) {
      const to = LEGAL[status][action];
      if (to) {
        t.equal(transition({ status, assignee: null }, req(action), NOW).to, to, `${status} --${action}--> ${to}`);
        legal++;
      } else {
        const err = t.throws(() => transition({ status, assignee: null }, req(action), NOW), `${status} refuses ${action}`) as GsError;
        t.equal(err.code, 'GS_ERR_EVENT_TRANSITION');
        t.equal(err.status, 409);
        t.match(err.message, new RegExp(`allowed: ${allowedActions(status).join(', ') || 'none'}`), 'the refusal names what is allowed');
        refused++;
      }
    }
    t.same(allowedActions(status).sort(), Object.keys(LEGAL[status]).sort(), `allowedActions(${status})`);
  }
  t.equal(legal + refused, EVENT_STATUS_CODES.length * EVENT_ACTION_CODES.length);
});

t.test('dispatch needs an assignee; return, resolve and escalate need a reason', async (t) => {
  const noAssignee = t.throws(() => transition({ status: 'accepted', assignee: null }, { action: 'dispatch', actor: 'a' }, NOW)) as GsError;
  t.equal(noAssignee.code, 'GS_ERR_VALIDATION');
  t.match(noAssignee.details, [{ path: '/assignee' }]);
  for (const [status, action] of [['dispatched', 'return'], ['handling', 'resolve'], ['reported', 'escalate']] as const) {
    const e = t.throws(() => transition({ status, assignee: null }, { action, actor: 'a', note: '  ' }, NOW)) as GsError;
    t.equal(e.code, 'GS_ERR_VALIDATION', `${action} without a note`);
  }
});

t.test('the assignee follows the work; steps are stamped for the statistics', async (t) => {
  const d = transition({ status: 'accepted', assignee: null }, req('dispatch'), NOW);
  t.same(d.assignee, dept);
  t.same(d.stamps, { dispatchedAt: NOW });
  t.same(transition({ status: 'dispatched', assignee: dept }, req('start'), NOW).assignee, dept, 'start keeps it');
  t.equal(transition({ status: 'handling', assignee: dept }, req('return'), NOW).assignee, null, 'return hands it back');
  t.same(transition({ status: 'reported', assignee: null }, req('accept'), NOW).stamps, { acceptedAt: NOW });
  t.same(transition({ status: 'handling', assignee: dept }, req('resolve'), NOW).stamps, { resolvedAt: NOW });
  t.same(transition({ status: 'verified', assignee: dept }, req('close'), NOW).stamps, { closedAt: NOW });
  t.same(transition({ status: 'handling', assignee: dept }, req('escalate'), NOW).stamps, { escalatedAt: NOW });
});
