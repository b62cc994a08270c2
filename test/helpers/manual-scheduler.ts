import type { ManualClock } from '../../contracts/clock.js';
import type { Scheduler, TimerHandle } from '../../edge/scheduler.js';

interface Timer {
  id: number;
  due: number;
  ms: number;
  fn: () => void;
}

/**
 * A Scheduler on virtual time: nothing fires until the test says so. `advance(ms)` moves time (and the
 * ManualClock, if given) and runs what falls due; `next()` waits for code under test to set a timer,
 * then fires it and tells the delay it asked for — so a test can check a backoff sequence exactly.
 */
export class ManualScheduler implements Scheduler {
  private timers: Timer[] = [];
  private seq = 0;
  private now = 0;
  /** Every delay ever asked for, in order. */
  readonly requested: number[] = [];

  constructor(private readonly clock?: ManualClock) {}

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const t: Timer = { id: ++this.seq, due: this.now + Math.max(0, ms), ms, fn };
    this.timers.push(t);
    this.requested.push(ms);
    return t.id;
  }

  clearTimeout(handle: TimerHandle): void {
    this.timers = this.timers.filter((t) => t.id !== handle);
  }

  /** Delays of the timers waiting to fire, soonest first. */
  get pending(): number[] {
    return this.sorted().map((t) => t.ms);
  }

  /** Moves virtual time forward, firing every timer that falls due (including ones they set). */
  advance(ms: number): number {
    const target = this.now + ms;
    let fired = 0;
    for (;;) {
      const t = this.sorted()[0];
      if (!t || t.due > target) break;
      this.fire(t);
      fired++;
    }
    this.moveTo(target);
    return fired;
  }

  /** Fires the soonest timer now; returns the delay it was set with, or undefined if none is set. */
  fireNext(): number | undefined {
    const t = this.sorted()[0];
    if (!t) return undefined;
    this.fire(t);
    return t.ms;
  }

  /** Waits (real time, polling) until a timer is set, then fires it; returns its delay. */
  async next(limitMs = 10_000): Promise<number> {
    const deadline = Date.now() + limitMs;
    while (this.timers.length === 0) {
      if (Date.now() > deadline) throw new Error('no timer was set');
      await new Promise((r) => setTimeout(r, 5));
    }
    return this.fireNext()!;
  }

  private fire(t: Timer): void {
    this.timers = this.timers.filter((x) => x.id !== t.id);
    if (t.due > this.now) this.moveTo(t.due);
    t.fn();
  }

  private moveTo(ms: number): void {
    const delta = ms - this.now;
    this.now = ms;
    if (delta > 0) this.clock?.advance(delta);
  }

  private sorted(): Timer[] {
    return [...this.timers].sort((a, b) => a.due - b.due || a.id - b.id);
  }
}
