// Slaves on a shared bus that stopped answering. Each unanswered request holds the line for a full
// timeout (times the retries) while every healthy slave on it waits its turn, so a dead slave would
// slow all its neighbours' polls. Instead it is quarantined: its reads fail at once without touching
// the bus, except one probe per backoff period, which grows while the probes go unanswered.

import type { Clock } from '../../../contracts/clock.js';
import type { BackoffPolicy } from '../../backoff.js';
import type { Random } from '../../scheduler.js';

/** First probe 0.5–1 s after the slave went quiet, doubling up to 30–60 s between probes. */
export const DEFAULT_QUARANTINE: BackoffPolicy = { baseMs: 1000, capMs: 60_000 };

/** What a read of this slave may do now. */
export type Admission = 'go' | 'probe' | 'quarantined';

interface SlaveState {
  /** Consecutive requests that went unanswered. */
  misses: number;
  /** Clock time from which the next probe may go. */
  probeAt: number;
  probing: boolean;
}

export interface QuarantineStatus {
  unitId: number;
  misses: number;
  probeAt: number;
  probing: boolean;
}

export class Quarantine {
  private readonly slaves = new Map<number, SlaveState>();

  constructor(
    private readonly clock: Clock,
    private readonly random: Random,
    private readonly policy: BackoffPolicy = DEFAULT_QUARANTINE,
  ) {}

  /**
   * Asks to read `unitId`. 'probe' reserves the one probe of this period: the caller must report
   * its outcome (answered, unanswered or inconclusive).
   */
  admit(unitId: number): Admission {
    const s = this.slaves.get(unitId);
    if (!s) return 'go';
    if (s.probing || this.clock.now() < s.probeAt) return 'quarantined';
    s.probing = true;
    return 'probe';
  }

  /**
   * The slave answered (data or an exception: either way it is alive). True when it was quarantined.
   * A quarantined slave that answers again means the line may be back (a mended cable, a gateway that
   * rebooted): its quarantined neighbours get their probe at once instead of waiting out their backoff.
   */
  answered(unitId: number): boolean {
    const was = this.slaves.delete(unitId);
    if (was) this.probeAllNow();
    return was;
  }

  /** Every quarantined slave may be probed on its next read (the link reconnected, or a slave came back). */
  probeAllNow(): void {
    const now = this.clock.now();
    for (const s of this.slaves.values()) s.probeAt = Math.min(s.probeAt, now);
  }

  /** A request to the slave went unanswered; returns the wait until its next probe. */
  unanswered(unitId: number): number {
    const s = this.slaves.get(unitId) ?? { misses: 0, probeAt: 0, probing: false };
    const delay = equalJitter(s.misses, this.policy, this.random);
    s.misses++;
    s.probeAt = this.clock.now() + delay;
    s.probing = false;
    this.slaves.set(unitId, s);
    return delay;
  }

  /** A probe that told nothing about the slave (the link itself failed, or closed): probe again later. */
  inconclusive(unitId: number): void {
    const s = this.slaves.get(unitId);
    if (s) s.probing = false;
  }

  isQuarantined(unitId: number): boolean {
    return this.slaves.has(unitId);
  }

  status(): QuarantineStatus[] {
    return [...this.slaves].map(([unitId, s]) => ({ unitId, ...s }));
  }
}

/**
 * "Equal jitter" (AWS Architecture Blog, Exponential Backoff and Jitter): half the window fixed, half
 * random. Unlike full jitter it never draws a near-zero wait, so the probes of a dead slave really do
 * thin out; the random half keeps several dead slaves from probing in lock-step.
 */
export function equalJitter(attempt: number, policy: BackoffPolicy, random: Random): number {
  const ceiling = Math.min(policy.capMs, policy.baseMs * 2 ** Math.min(attempt, 30));
  return Math.floor(ceiling / 2 + random() * (ceiling / 2));
}
