// The pure part of a campaign: checking its options, shuffling its targets and cutting them into
// waves by cumulative share, the maintenance window's form (the edge keeps to it, in its local time). No I/O, no clock: tests call it directly.
import { GsError, type ErrorDetail } from '../../contracts/errors.js';

/** Cumulative shares: each in (0, 1], strictly growing, the last 1 (every target is in some wave). */
export function checkShares(shares: readonly number[]): void {
  const problems: ErrorDetail[] = [];
  if (shares.length === 0) problems.push({ path: '/waves', message: 'give at least one wave' });
  shares.forEach((s, i) => {
    if (!(s > 0 && s <= 1)) problems.push({ path: `/waves/${i}/share`, message: 'must be in (0, 1]' });
    else if (i > 0 && s <= shares[i - 1]!) problems.push({ path: `/waves/${i}/share`, message: `cumulative: must be more than the wave before (${shares[i - 1]})` });
  });
  if (shares.length > 0 && shares.at(-1) !== 1) problems.push({ path: `/waves/${shares.length - 1}/share`, message: 'the last wave must reach 1 (every target)' });
  if (problems.length > 0) throw new GsError('GS_ERR_VALIDATION', 'waves are not valid', problems);
}

/** How many targets each wave gets out of `n`: wave i ends at ceil(share_i × n), so a 5 % canary of 3 is 1. */
export function waveSizes(n: number, shares: readonly number[]): number[] {
  const sizes: number[] = [];
  let done = 0;
  for (const s of shares) {
    const upTo = Math.min(n, Math.ceil(s * n - 1e-9));
    sizes.push(Math.max(0, upTo - done));
    done = Math.max(done, upTo);
  }
  return sizes;
}

/** Fisher–Yates with the injected random: the canary is a random sample, the same one for the same random. */
export function shuffle<T>(items: readonly T[], random: () => number): T[] {
  const a = [...items];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.min(i, Math.floor(random() * (i + 1)));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

const HHMM = /^([01]\d|2[0-3]):([0-5]\d)$/;

/** A daily window "HH:MM"–"HH:MM" (the end may be past midnight: 23:00–05:00). */
export function checkWindow(w: { start: string; end: string }): void {
  const problems: ErrorDetail[] = [];
  if (!HHMM.test(w.start)) problems.push({ path: '/window/start', message: 'HH:MM, 00:00 to 23:59' });
  if (!HHMM.test(w.end)) problems.push({ path: '/window/end', message: 'HH:MM, 00:00 to 23:59' });
  if (problems.length === 0 && w.start === w.end) problems.push({ path: '/window/end', message: 'must differ from start (leave the window out for any time)' });
  if (problems.length > 0) throw new GsError('GS_ERR_VALIDATION', 'maintenance window is not valid', problems);
}

/** Whether `failed` of a wave of `size` passes the threshold (strictly: 1 of 5 at 0.2 does not). */
export function passesThreshold(failed: number, size: number, threshold: number): boolean {
  return size > 0 && failed / size > threshold;
}
