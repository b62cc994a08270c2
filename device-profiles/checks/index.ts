// Checks of a profile beyond what the schema says: each point's value (values.ts, every protocol) and
// each protocol's own, point by point and over the layout of all points. Adding a protocol is adding a
// file here and one entry below. device-profiles/validate.ts runs them on every profile it reads.
import type { ProfilePoint, Protocol } from '../../contracts/profile.js';
import { checkCameraLayout, checkCameraPoint } from './camera.js';
import { checkModbusLayout, checkModbusPoint } from './modbus.js';
import { checkMqttLayout, checkMqttPoint } from './mqtt.js';
import { checkOpcuaLayout, checkOpcuaPoint } from './opcua.js';

export { checkPointValue } from './values.js';

export type AddProblem = (path: string, message: string) => void;
/** Checks one point; paths start with `at` (`/points/<i>`). */
export type PointCheck = (point: ProfilePoint, at: string, add: AddProblem) => void;
/** Checks all points together (what two points must not share); paths are from the profile's root. */
export type LayoutCheck = (points: readonly ProfilePoint[], add: AddProblem) => void;

export interface ProtocolChecks {
  point: PointCheck;
  layout: LayoutCheck;
}

export const PROTOCOL_CHECKS: Record<Protocol, ProtocolChecks> = {
  modbus: { point: checkModbusPoint, layout: checkModbusLayout },
  mqtt: { point: checkMqttPoint, layout: checkMqttLayout },
  opcua: { point: checkOpcuaPoint, layout: checkOpcuaLayout },
  camera: { point: checkCameraPoint, layout: checkCameraLayout },
};
