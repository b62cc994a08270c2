import type { AlarmAction, AlarmEnvelope, Severity } from '../../contracts/alarm.js';

/**
 * The alarm envelope as the cloud handles it. contracts/alarm.ts builds `Severity` and `AlarmAction`
 * with Type.Union over a mapped array, whose static type TypeBox infers as `never`, so
 * `AlarmEnvelope['severity']` is `never` (validation at runtime is right). This restores the two
 * fields from the string unions contracts exports; drop it once contracts uses Type.Enum.
 */
export type Envelope = Omit<AlarmEnvelope, 'severity' | 'action'> & { severity: Severity; action: AlarmAction };
