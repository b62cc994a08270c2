/**
 * Timers are injected like the clock: code that waits (poll cadence, backoff, flush intervals) asks a
 * Scheduler, so tests can fire timers by hand instead of sleeping, and `stop()` can cancel them all.
 */
export type TimerHandle = unknown;

export interface Scheduler {
  /** Runs `fn` once, `ms` from now. */
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

export const systemScheduler: Scheduler = {
  setTimeout: (fn, ms) => setTimeout(fn, Math.max(0, ms)),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** A random number in [0, 1); injected where jitter is drawn so tests can pin it. */
export type Random = () => number;
