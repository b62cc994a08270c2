import { GsError } from '../../contracts/errors.js';

/** Turn priorities: a write someone is waiting on goes before routine polls. */
export type TurnPriority = 'normal' | 'high';

interface Waiting {
  start: () => void;
  cancel: (err: Error) => void;
  high: boolean;
}

/**
 * Tasks take turns: one runs at a time. A shared endpoint needs this — an RS-485 line carries one
 * request at a time, and many Modbus TCP gateways answer only one transaction at a time even though
 * the protocol allows more. High-priority tasks go before every normal one still waiting (in arrival
 * order among themselves), but never interrupt the task that is running: a Modbus transaction cut in
 * half would leave the slave's answer to land in the next one.
 */
export class TurnQueue {
  private readonly waiting: Waiting[] = [];
  private busy = false;
  private idleWaiters: Array<() => void> = [];

  /** Runs `task` when its turn comes; settles as the task does. */
  run<T>(task: () => Promise<T>, priority: TurnPriority = 'normal'): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const start = () => {
        Promise.resolve()
          .then(task)
          .then(resolve, reject)
          .finally(() => {
            this.busy = false;
            this.next();
          });
      };
      const entry: Waiting = { start, cancel: reject, high: priority === 'high' };
      if (entry.high) {
        // After the high-priority tasks already waiting, before the first normal one.
        const at = this.waiting.findIndex((w) => !w.high);
        this.waiting.splice(at === -1 ? this.waiting.length : at, 0, entry);
      } else {
        this.waiting.push(entry);
      }
      this.next();
    });
  }

  /** Tasks waiting for their turn (the running one not counted). */
  get length(): number {
    return this.waiting.length;
  }

  /** Rejects every task that has not started yet (the running one finishes on its own). */
  cancelWaiting(err: Error = new GsError('GS_ERR_DRIVER_CLOSED')): void {
    for (const w of this.waiting.splice(0)) w.cancel(err);
  }

  /** Resolves once nothing runs and nothing waits (close() uses it to finish cleanly). */
  idle(): Promise<void> {
    if (!this.busy && this.waiting.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private next(): void {
    if (this.busy) return;
    const w = this.waiting.shift();
    if (!w) {
      for (const resolve of this.idleWaiters.splice(0)) resolve();
      return;
    }
    this.busy = true;
    w.start();
  }
}
