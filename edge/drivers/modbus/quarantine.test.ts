import t from 'tap';
import { ManualClock } from '../../../contracts/clock.js';
import { equalJitter, Quarantine } from './quarantine.js';

const policy = { baseMs: 1000, capMs: 8000 };

t.test('a silent slave is probed once per period; the period doubles with each unanswered probe, up to the cap', async (t) => {
  const clock = new ManualClock(0);
  const q = new Quarantine(clock, () => 0.5, policy);
  t.equal(q.admit(7), 'go', 'a slave nobody has heard about reads normally');
  const waits: number[] = [q.unanswered(7)];
  t.equal(q.admit(7), 'quarantined');
  clock.advance(waits[0]! - 1);
  t.equal(q.admit(7), 'quarantined', 'not before its time');
  for (let i = 0; i < 5; i++) {
    clock.advance(waits.at(-1)!);
    t.equal(q.admit(7), 'probe');
    t.equal(q.admit(7), 'quarantined', 'one probe per period, even while it is out');
    waits.push(q.unanswered(7));
  }
  // Equal jitter at random 0.5: 3/4 of the window, which is 1, 2, 4, 8, 8, 8 s.
  t.same(waits, [750, 1500, 3000, 6000, 6000, 6000]);
  t.same(q.status(), [{ unitId: 7, misses: 6, probeAt: clock.now() + 6000, probing: false }]);
});

t.test('an answer ends the quarantine; an inconclusive probe frees the probe slot, keeping the backoff', async (t) => {
  const clock = new ManualClock(0);
  const q = new Quarantine(clock, () => 0, policy);
  q.unanswered(1);
  q.unanswered(2);
  clock.advance(1000);
  t.equal(q.admit(1), 'probe');
  q.inconclusive(1); // the link itself failed under the probe
  t.equal(q.admit(1), 'probe', 'probes again at once: nothing was learnt about the slave');
  t.ok(q.answered(1), 'it answered: it was quarantined');
  t.equal(q.admit(1), 'go');
  t.notOk(q.answered(1), 'answering when healthy changes nothing');
  t.equal(q.admit(2), 'probe', 'its neighbour keeps its own state');
  t.ok(q.isQuarantined(2));
  t.notOk(q.isQuarantined(1));
});

t.test('equal jitter stays within the upper half of the window', async (t) => {
  for (const r of [0, 0.25, 0.999999]) {
    for (let attempt = 0; attempt < 40; attempt++) {
      const ceiling = Math.min(policy.capMs, policy.baseMs * 2 ** attempt);
      const d = equalJitter(attempt, policy, () => r);
      if (d < ceiling / 2 || d > ceiling) t.fail(`attempt ${attempt}, random ${r}: ${d} outside [${ceiling / 2}, ${ceiling}]`);
    }
  }
  t.pass('all within [ceiling/2, ceiling]');
});

t.test('a quarantined slave that answers again lets its quarantined neighbours probe at once', async (t) => {
  const clock = new ManualClock(0);
  const q = new Quarantine(clock, () => 0.5);
  q.unanswered(1);
  q.unanswered(2);
  q.unanswered(2);
  t.equal(q.admit(1), 'quarantined');
  t.equal(q.admit(2), 'quarantined');
  clock.advance(800);
  t.equal(q.admit(1), 'probe', 'unit 1 probes after its first backoff');
  t.ok(q.answered(1), 'and answers: the line is back');
  t.equal(q.admit(2), 'probe', 'unit 2 probes now instead of waiting out its longer backoff');
  q.unanswered(2);
  t.equal(q.admit(2), 'quarantined', 'a slave that is really dead goes back into quarantine, its backoff kept');
  t.match(q.status(), [{ unitId: 2, misses: 3 }]);
});
