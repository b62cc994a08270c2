// What the wire data types (contracts/profile.ts MODBUS_DATA_TYPES, also used by MQTT binary fields)
// occupy and can carry. Kept here rather than taken from the drivers: the drivers import these checks.
import type { ModbusDataType, ProfilePoint } from '../../contracts/profile.js';

/** 16-bit words per data type (a string's width is its `length`). */
export const WORDS: Record<Exclude<ModbusDataType, 'string'>, number> = {
  bool: 1, int16: 1, uint16: 1, int32: 2, uint32: 2, float32: 2, float64: 4,
};

export const INTEGER_TYPES = ['int16', 'uint16', 'int32', 'uint32'] as const;

export function isIntegerType(dt: ModbusDataType): boolean {
  return (INTEGER_TYPES as readonly string[]).includes(dt);
}

/** The raw values a numeric data type carries; bool and string have none. */
export const RAW_RANGE: Partial<Record<ModbusDataType, [number, number]>> = {
  int16: [-0x8000, 0x7fff],
  uint16: [0, 0xffff],
  int32: [-0x80000000, 0x7fffffff],
  uint32: [0, 0xffffffff],
  float32: [-3.4028234663852886e38, 3.4028234663852886e38],
  float64: [-Number.MAX_VALUE, Number.MAX_VALUE],
};

/**
 * The wire data type of a point, whichever protocol block carries it; undefined where the wire
 * value carries its own type (MQTT JSON, OPC UA).
 */
export function wireType(p: ProfilePoint): ModbusDataType | undefined {
  return p.modbus?.dataType ?? p.mqtt?.binary?.dataType;
}

/** Engineering values a raw data type can produce through the point's scale and offset. */
export function reachable(p: Pick<ProfilePoint, 'scale' | 'offset'>, dataType: ModbusDataType): [number, number] | undefined {
  const raw = RAW_RANGE[dataType];
  if (!raw) return undefined;
  const [a, b] = raw.map((r) => r * (p.scale ?? 1) + (p.offset ?? 0)) as [number, number];
  return [Math.min(a, b), Math.max(a, b)];
}
