import { createHash } from 'node:crypto';

/**
 * An alarm's identity, derived from (device, rule, raise time) so that live evaluation and a backtest
 * over the same history produce the same ids and a replay is idempotent at the cloud. NUL separates
 * the parts so ("a-b", "c") and ("a", "b-c") cannot collide. 32 hex chars satisfy the envelope's
 * `^[A-Za-z0-9._:-]+$`, 8–128.
 */
export function alarmIdFor(deviceId: string, ruleId: string, raisedAt: number): string {
  return createHash('sha256').update(`${deviceId}\u0000${ruleId}\u0000${raisedAt}`).digest('hex').slice(0, 32);
}
