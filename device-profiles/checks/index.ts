// Per-protocol checks of a profile point, beyond what the schema says. Adding a protocol is adding a
// file here and one entry below.
import type { ProfilePoint, Protocol } from '../../contracts/profile.js';
import { checkModbusPoint } from './modbus.js';
import { checkMqttPoint } from './mqtt.js';
import { checkOpcuaPoint } from './opcua.js';

export type AddProblem = (path: string, message: string) => void;
export type PointCheck = (point: ProfilePoint, at: string, add: AddProblem) => void;

export const PROTOCOL_CHECKS: Record<Protocol, PointCheck> = {
  modbus: checkModbusPoint,
  mqtt: checkMqttPoint,
  opcua: checkOpcuaPoint,
};
