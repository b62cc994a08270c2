import type { AlarmEnvelope } from '../../contracts/alarm.js';
import type { DeviceConfig } from '../config.js';
import type { HealthAlarm } from './tracker.js';

/**
 * A health alarm as the cloud takes it. A bus alarm carries the location and site of the first device
 * behind it — the devices of one line or gateway sit together, so that is where the event belongs.
 */
export function healthEnvelope(a: HealthAlarm, device: (id: string) => Pick<DeviceConfig, 'profile' | 'location' | 'site'> | undefined): AlarmEnvelope {
  const first = device(a.devices[0] ?? a.subject);
  // A device's own alarm (device_offline, camera_offline) names its profile; a bus alarm has none.
  const isDevice = a.type !== 'bus_offline';
  return {
    alarmId: a.alarmId,
    seq: a.seq,
    action: a.action,
    type: a.type,
    severity: a.severity,
    deviceId: a.subject,
    ...(isDevice && first ? { profile: first.profile } : {}),
    ruleId: a.ruleId,
    message: a.message.slice(0, 1024),
    ...(first?.location ? { location: first.location } : {}),
    ...(first?.site ? { site: first.site } : {}),
    ts: a.ts,
  };
}
