// OPC UA values to and from raw driver values. Light on purpose: node-opcua itself is loaded only when a
// session connects (it takes over a second to import), so this file speaks the wire's numbers — the
// built-in DataType ids of OPC UA Part 6, 5.1.2 — and node-opcua's value shapes by structure.
import { GsError } from '../../../contracts/errors.js';
import type { RawPointValue, RawValue } from '../driver.js';
import { isBadStatus, statusReason } from './failure.js';

export const BuiltinType = {
  Null: 0,
  Boolean: 1,
  SByte: 2,
  Byte: 3,
  Int16: 4,
  UInt16: 5,
  Int32: 6,
  UInt32: 7,
  Int64: 8,
  UInt64: 9,
  Float: 10,
  Double: 11,
  String: 12,
  DateTime: 13,
  Guid: 14,
  ByteString: 15,
  XmlElement: 16,
  NodeId: 17,
  ExpandedNodeId: 18,
  StatusCode: 19,
  QualifiedName: 20,
  LocalizedText: 21,
  ExtensionObject: 22,
  DataValue: 23,
  Variant: 24,
  DiagnosticInfo: 25,
} as const;
export type BuiltinType = (typeof BuiltinType)[keyof typeof BuiltinType];

const NAMES = Object.fromEntries(Object.entries(BuiltinType).map(([k, v]) => [v, k])) as Record<number, string>;

export function builtinName(t: number): string {
  return NAMES[t] ?? `DataType ${t}`;
}

/** The integer types and their ranges; 64-bit ones stop at what a JS number holds exactly. */
const INTEGER_RANGES: Partial<Record<number, [number, number]>> = {
  [BuiltinType.SByte]: [-128, 127],
  [BuiltinType.Byte]: [0, 255],
  [BuiltinType.Int16]: [-32768, 32767],
  [BuiltinType.UInt16]: [0, 65535],
  [BuiltinType.Int32]: [-2147483648, 2147483647],
  [BuiltinType.UInt32]: [0, 4294967295],
  [BuiltinType.Int64]: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
  [BuiltinType.UInt64]: [0, Number.MAX_SAFE_INTEGER],
};

/** What node-opcua hands us for a value: a DataValue, taken by shape. */
export interface DataValueLike {
  statusCode?: { value: number; name: string } | null;
  value?: { dataType: number; arrayType?: number; value: unknown } | null;
}

/** One point's raw value from a Read result or a data change notification. */
export function decodeDataValue(point: string, dv: DataValueLike): RawPointValue {
  const status = dv.statusCode;
  // Uncertain values (last usable value, sensor not accurate) still carry a value the plant reported.
  if (status && isBadStatus(status.value)) return { point, ok: false, reason: statusReason(status.name), unreachable: false };
  const v = dv.value;
  if (!v || v.dataType === BuiltinType.Null || v.value === null || v.value === undefined) return bad(point, 'opcua_no_value');
  if (v.arrayType !== undefined && v.arrayType !== 0) return bad(point, 'opcua_array_not_supported');
  const raw = toRaw(v.dataType, v.value);
  return raw === undefined ? bad(point, 'opcua_unsupported_data_type') : { point, ok: true, value: raw };
}

function bad(point: string, reason: string): RawPointValue {
  return { point, ok: false, reason, unreachable: false };
}

function toRaw(dataType: number, value: unknown): RawValue | undefined {
  switch (dataType) {
    case BuiltinType.Boolean:
      return Boolean(value);
    case BuiltinType.Int64:
    case BuiltinType.UInt64:
      return Array.isArray(value) ? fromHighLow(value as [number, number], dataType === BuiltinType.Int64) : Number(value);
    case BuiltinType.DateTime:
      return value instanceof Date ? value.getTime() : undefined;
    case BuiltinType.LocalizedText:
      return (value as { text?: string | null }).text ?? '';
    case BuiltinType.StatusCode:
      return (value as { name?: string }).name ?? String(value);
    case BuiltinType.String:
    case BuiltinType.NodeId:
    case BuiltinType.Guid:
    case BuiltinType.QualifiedName:
      return String(value);
    default:
      if (INTEGER_RANGES[dataType] !== undefined || dataType === BuiltinType.Float || dataType === BuiltinType.Double) {
        return typeof value === 'number' ? value : undefined;
      }
      return undefined;
  }
}

/** node-opcua carries 64-bit integers as [high, low] unsigned 32-bit words. */
export function fromHighLow([high, low]: [number, number], signed: boolean): number {
  const u = (BigInt(high) << 32n) | BigInt(low);
  return Number(signed ? BigInt.asIntN(64, u) : u);
}

export function toHighLow(n: number): [number, number] {
  const u = BigInt.asUintN(64, BigInt(n));
  return [Number(u >> 32n), Number(u & 0xffffffffn)];
}

/** What a node takes on write: its built-in type (subtypes resolved) and whether it is a scalar. */
export interface WriteType {
  dataType: number;
  /** ValueRank attribute: -1 scalar, -2 any, -3 scalar or one dimension, 0+ arrays. */
  valueRank: number;
}

/**
 * The Variant to write `value` into a node of `type`. The profile says what the engineering value is;
 * the node's DataType says what the server accepts, so a number goes into a Float, an Int16 or a
 * Boolean node alike — when it fits. Throws GS_ERR_DRIVER_VALUE, naming the point and the node, when it
 * does not.
 */
export function encodeWriteValue(value: RawValue, type: WriteType, where: string): { dataType: number; arrayType: 0; value: unknown } {
  // BaseDataType (and abstract Number): the node takes any value, so the value's own type decides.
  const t = type.dataType === BuiltinType.Variant ? inferred(value) : type.dataType;
  const fail = (why: string) => new GsError('GS_ERR_DRIVER_VALUE', `${where}: ${why}`);
  // Scalar, said out loud: node-opcua cannot tell a 64-bit [high, low] pair from an array of two.
  const scalar = (v: unknown) => ({ dataType: t, arrayType: 0 as const, value: v });
  if (type.valueRank >= 0) throw fail('the node holds an array; gridsense writes scalars only');
  if (t === BuiltinType.Boolean) {
    if (typeof value === 'boolean') return scalar(value);
    if (value === 0 || value === 1) return scalar(value === 1);
    throw fail(`the node is Boolean; got ${JSON.stringify(value)}`);
  }
  const range = INTEGER_RANGES[t];
  if (range !== undefined || t === BuiltinType.Float || t === BuiltinType.Double) {
    const n = typeof value === 'boolean' ? Number(value) : value;
    if (typeof n !== 'number' || !Number.isFinite(n)) throw fail(`the node is ${builtinName(t)}; got ${JSON.stringify(value)}`);
    if (range === undefined) return scalar(n);
    if (!Number.isInteger(n)) throw fail(`the node is ${builtinName(t)}; ${n} is not a whole number`);
    if (n < range[0] || n > range[1]) throw fail(`the node is ${builtinName(t)}; ${n} is outside ${range[0]}…${range[1]}`);
    return scalar(t === BuiltinType.Int64 || t === BuiltinType.UInt64 ? toHighLow(n) : n);
  }
  if (t === BuiltinType.String) return scalar(String(value));
  if (t === BuiltinType.LocalizedText) return scalar({ text: String(value) });
  throw fail(`the node is ${builtinName(t)}, which gridsense cannot write`);
}

function inferred(value: RawValue): number {
  return typeof value === 'boolean' ? BuiltinType.Boolean : typeof value === 'number' ? BuiltinType.Double : BuiltinType.String;
}
