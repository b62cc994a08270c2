// Per-protocol checks of a profile point, beyond what the schema says. Adding a protocol is adding a
// file here and one entry below.
import type { ProfilePoint, Protocol } from '../../contracts/profile.js';
import { checkModbusPoint } from './modbus.js';

export type AddProblem = (path: string, message: string) => void;
export type PointCheck = (point: ProfilePoint, at: string, add: AddProblem) => void;

/** Every point of a profile must carry the block of the profile's protocol. */
function needsBlock(protocol: 'mqtt' | 'opcua'): PointCheck {
  return (p, at, add) => {
    if (!p[protocol]) add(at, `a ${protocol} profile needs a "${protocol}" block on every point`);
  };
}

export const PROTOCOL_CHECKS: Record<Protocol, PointCheck> = {
  modbus: checkModbusPoint,
  mqtt: needsBlock('mqtt'),
  opcua: needsBlock('opcua'),
};
