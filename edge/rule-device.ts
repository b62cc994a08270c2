import type { DeviceProfile } from '../contracts/profile.js';
import type { RuleDevice } from '../rules/types.js';
import type { DeviceConfig } from './config.js';

/** A configured device as the rules see it: the one place the live agent and the backtest build it. */
export function ruleDeviceOf(device: DeviceConfig, profile: DeviceProfile): RuleDevice {
  return {
    id: device.id, profile: profile.id, kind: profile.kind,
    ...(device.place !== undefined ? { site: device.place } : {}),
    ...(device.overrides ? { overrides: device.overrides } : {}),
  };
}
