// Deliveries are signed like Stripe's and GitHub's: HMAC-SHA256 over "<unix seconds>.<raw body>" with
// the subscription's secret, sent as `X-Gridsense-Signature: t=<seconds>,v1=<hex>`. The timestamp is
// inside the MAC so a captured delivery cannot be replayed later; receivers reject old ones.
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'x-gridsense-signature';

export function sign(secret: string, body: string, unixSeconds: number): string {
  const mac = createHmac('sha256', secret).update(`${unixSeconds}.${body}`).digest('hex');
  return `t=${unixSeconds},v1=${mac}`;
}

/**
 * What a receiver does (exported for receivers written in TypeScript and for the tests): true when the
 * header carries a v1 MAC of this body under `secret`, made within `toleranceS` of `nowS`.
 */
export function verify(secret: string, body: string, header: string | undefined, nowS: number, toleranceS = 300): boolean {
  if (!header) return false;
  const parts = new Map(header.split(',').map((p) => p.split('=', 2) as [string, string]));
  const t = Number(parts.get('t'));
  const v1 = parts.get('v1');
  if (!Number.isInteger(t) || !v1 || Math.abs(nowS - t) > toleranceS) return false;
  const want = Buffer.from(sign(secret, body, t).split('v1=')[1]!, 'hex');
  const got = Buffer.from(v1, 'hex');
  return got.length === want.length && timingSafeEqual(got, want);
}
