import { AlarmEnvelope } from '../contracts/alarm.js';
import { schemaErrors } from '../contracts/validate.js';
import type { ErrorDetail } from '../contracts/errors.js';
import type { RuleAlarm } from '../rules/types.js';
import type { DeviceConfig } from './config.js';
import type { AlarmEnvelope as Envelope } from '../contracts/alarm.js';

/**
 * A rule's alarm transition as the cloud takes it: plus what only the edge's config knows — the
 * device's profile, location and kind of place — so the cloud can pick a grid and a category
 * without knowing this edge's devices.
 */
export function toEnvelope(a: RuleAlarm, device: Pick<DeviceConfig, 'profile' | 'location' | 'site'>): Envelope {
  return {
    alarmId: a.alarmId,
    seq: a.seq,
    action: a.action,
    type: a.type,
    severity: a.severity,
    deviceId: a.deviceId,
    profile: device.profile,
    ruleId: a.ruleId,
    point: a.point,
    value: typeof a.value === 'string' ? a.value.slice(0, 256) : a.value,
    ...(a.unit !== undefined ? { unit: a.unit } : {}),
    ...(a.threshold !== undefined ? { threshold: a.threshold } : {}),
    message: a.message.slice(0, 1024),
    ...(device.location ? { location: device.location } : {}),
    ...(device.site ? { site: device.site } : {}),
    ts: a.ts,
  };
}

/** Problems the cloud would reject the envelope for (empty when it is valid). */
export function envelopeProblems(e: Envelope): ErrorDetail[] {
  return schemaErrors(AlarmEnvelope, e);
}
