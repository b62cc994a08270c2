/**
 * Polls `probe` until it returns a value that is not undefined. Waiting for an outcome, never asserting
 * how long it took: the limit only turns a hang into a readable failure.
 */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, limitMs = 30_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + limitMs;
  let lastErr: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      lastErr = err;
    }
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}${lastErr ? `: ${String(lastErr)}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
