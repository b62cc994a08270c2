import type { Random } from './scheduler.js';

export interface BackoffPolicy {
  baseMs: number;
  capMs: number;
}

/**
 * "Full jitter" (AWS Architecture Blog, Exponential Backoff and Jitter): a delay drawn uniformly from
 * [0, min(cap, base·2^attempt)]. Spreading retries over the whole window keeps a county's edges from
 * hammering the cloud in lock-step when it comes back after an outage.
 * `attempt` counts failures so far, starting at 0.
 */
export function fullJitter(attempt: number, policy: BackoffPolicy, random: Random): number {
  const ceiling = Math.min(policy.capMs, policy.baseMs * 2 ** Math.min(attempt, 30));
  return Math.floor(random() * ceiling);
}
