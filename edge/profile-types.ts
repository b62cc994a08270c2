// contracts/profile.ts and contracts/alarm.ts build their literal unions with `.map()`, which TypeBox's
// Static types as `never` (e.g. ModbusPointAttributes['table'] is never). These restate those fields
// from the contracts' own const arrays so the edge type-checks against real values. If the contracts
// are fixed, these stay correct: they are the same types.
import type { AlarmAction, AlarmEnvelope, Severity } from '../contracts/alarm.js';
import type { ByteOrder, DeviceProfile, ModbusDataType, ModbusPointAttributes, ModbusTable, ProfilePoint, Protocol } from '../contracts/profile.js';

export type ModbusAttrs = Omit<ModbusPointAttributes, 'table' | 'dataType' | 'order'> & {
  table: ModbusTable;
  dataType: ModbusDataType;
  order?: ByteOrder;
};

export type Point = Omit<ProfilePoint, 'type' | 'access' | 'modbus'> & {
  type: 'number' | 'boolean' | 'string';
  access?: 'read' | 'readwrite' | 'write';
  modbus?: ModbusAttrs;
};

export type Profile = Omit<DeviceProfile, 'protocol' | 'points'> & {
  protocol: Protocol;
  points: Point[];
};

export type Envelope = Omit<AlarmEnvelope, 'severity' | 'action'> & {
  severity: Severity;
  action: AlarmAction;
};

/** A contract profile as the edge types it (see the note above). */
export function asProfile(p: DeviceProfile): Profile {
  return p as unknown as Profile;
}
