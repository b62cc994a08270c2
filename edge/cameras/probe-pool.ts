// A small pool shared by all cameras of an edge: at most `concurrency` probes run at once (each one is
// an ffprobe or ffmpeg child and an RTSP session), the rest wait in FIFO order. A camera already queued
// or being probed is not queued twice: its caller gets the probe in progress. A full queue refuses
// (probe_overloaded) instead of growing without end when cameras outnumber what the pool can do.
// stop() kills what runs (through the AbortSignal each task gets) and refuses what waits.
import { CameraFailure } from './failure.js';

export interface ProbePoolOptions {
  /** Probes at once. Default 4 (two cores: ffprobe barely uses CPU, a decode uses about one). */
  concurrency?: number;
  /** Probes waiting at most; beyond, run() refuses. Default 1000. */
  maxQueued?: number;
}

export interface ProbePoolStats {
  running: number;
  queued: number;
  completed: number;
  failed: number;
  refused: number;
}

type Task<T> = (signal: AbortSignal) => Promise<T>;

interface Entry {
  key: string;
  task: Task<unknown>;
  resolve: (v: unknown) => void;
  reject: (err: unknown) => void;
  promise: Promise<unknown>;
}

export class ProbePool {
  private readonly concurrency: number;
  private readonly maxQueued: number;
  private readonly queue: Entry[] = [];
  private readonly byKey = new Map<string, Entry>();
  private readonly running = new Map<Entry, AbortController>();
  private stopped = false;
  private readonly counts = { completed: 0, failed: 0, refused: 0 };

  constructor(opts: ProbePoolOptions = {}) {
    this.concurrency = Math.max(1, opts.concurrency ?? 4);
    this.maxQueued = Math.max(0, opts.maxQueued ?? 1000);
  }

  /**
   * Runs `task` when a slot is free; a second call with a key already queued or running shares it.
   * `signal` (of the call that queues the task) cancels it: taken out of the queue, or aborted while it
   * runs — one camera's session closing without stopping the pool.
   */
  run<T>(key: string, task: Task<T>, opts: { signal?: AbortSignal } = {}): Promise<T> {
    if (this.stopped) return Promise.reject(new CameraFailure('probe_aborted', 'probe pool is stopped'));
    const existing = this.byKey.get(key);
    if (existing) return existing.promise as Promise<T>;
    if (opts.signal?.aborted) return Promise.reject(new CameraFailure('probe_aborted', 'probe cancelled before it was queued'));
    if (this.running.size >= this.concurrency && this.queue.length >= this.maxQueued) {
      this.counts.refused++;
      return Promise.reject(new CameraFailure('probe_overloaded', `probe queue is full (${this.maxQueued} waiting)`));
    }
    let resolve!: (v: unknown) => void;
    let reject!: (err: unknown) => void;
    const promise = new Promise<unknown>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const entry: Entry = { key, task: task as Task<unknown>, resolve, reject, promise };
    this.byKey.set(key, entry);
    this.queue.push(entry);
    const signal = opts.signal;
    if (signal) {
      const onAbort = () => this.cancel(entry);
      signal.addEventListener('abort', onAbort, { once: true });
      void promise.then(
        () => signal.removeEventListener('abort', onAbort),
        () => signal.removeEventListener('abort', onAbort),
      );
    }
    this.pump();
    return promise as Promise<T>;
  }

  /** Takes a waiting entry out of the queue, or aborts it when it runs. */
  private cancel(entry: Entry): void {
    const i = this.queue.indexOf(entry);
    if (i >= 0) {
      this.queue.splice(i, 1);
      this.byKey.delete(entry.key);
      entry.reject(new CameraFailure('probe_aborted', 'probe cancelled'));
      return;
    }
    this.running.get(entry)?.abort();
  }

  stats(): ProbePoolStats {
    return { running: this.running.size, queued: this.queue.length, ...this.counts };
  }

  /** Refuses what waits, aborts what runs and resolves once every running task has settled. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const e of this.queue.splice(0)) {
      this.byKey.delete(e.key);
      e.reject(new CameraFailure('probe_aborted', 'probe pool stopped'));
    }
    const pending = [...this.running.keys()].map((e) => e.promise.catch(() => undefined));
    for (const ctl of this.running.values()) ctl.abort();
    await Promise.all(pending);
  }

  private pump(): void {
    while (!this.stopped && this.running.size < this.concurrency && this.queue.length > 0) {
      const entry = this.queue.shift()!;
      const ctl = new AbortController();
      this.running.set(entry, ctl);
      let out: Promise<unknown>;
      try {
        out = entry.task(ctl.signal);
      } catch (err) {
        out = Promise.reject(err);
      }
      out.then(
        (v) => this.settle(entry, () => entry.resolve(v), true),
        (err: unknown) => this.settle(entry, () => entry.reject(err), false),
      );
    }
  }

  private settle(entry: Entry, fn: () => void, ok: boolean): void {
    this.running.delete(entry);
    this.byKey.delete(entry.key);
    if (ok) this.counts.completed++;
    else this.counts.failed++;
    fn();
    this.pump();
  }
}
