/**
 * Shared, reference-counted resources by key: every device on one endpoint (host:port, or a serial
 * line) shares one link, which closes when the last device using it lets go.
 */
export interface Lease<T> {
  readonly value: T;
  /** Idempotent; closes the resource when this was the last lease. */
  release(): Promise<void>;
}

export class RefPool<T> {
  private readonly entries = new Map<string, { value: T; refs: number }>();

  constructor(private readonly dispose: (value: T) => Promise<void>) {}

  acquire(key: string, create: () => T): Lease<T> {
    let entry = this.entries.get(key);
    if (!entry) {
      entry = { value: create(), refs: 0 };
      this.entries.set(key, entry);
    }
    entry.refs++;
    const held = entry;
    let released = false;
    return {
      value: held.value,
      release: async () => {
        if (released) return;
        released = true;
        held.refs--;
        if (held.refs === 0 && this.entries.get(key) === held) {
          this.entries.delete(key);
          await this.dispose(held.value);
        }
      },
    };
  }

  /** How many leases hold `key` (0 when nothing does). */
  refs(key: string): number {
    return this.entries.get(key)?.refs ?? 0;
  }

  get size(): number {
    return this.entries.size;
  }
}
