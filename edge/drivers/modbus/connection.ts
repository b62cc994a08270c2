// The `connection` blocks of Modbus devices in edge.yaml, one per transport, and their defaults
// (firmware-specs/modbus/conventions.md: unit 1, 1 s timeout, one retry; serial lines 9600 8N1).
import Type from 'typebox';
import { Duration, durationMs } from '../../../contracts/duration.js';
import type { ConnectionConfig } from '../driver.js';
import type { Parity, SerialSettings } from './serial.js';

const common = {
  timeout: Type.Optional(Duration),
  retries: Type.Optional(Type.Integer({ minimum: 0, maximum: 5 })),
  /** Unused registers one request may read across to merge two blocks (0: contiguous only). */
  maxGap: Type.Optional(Type.Integer({ minimum: 0, maximum: 124 })),
};

/** On a serial line 0 is broadcast (no answer comes back) and 248–255 are reserved. */
const rtuUnitId = Type.Optional(Type.Integer({ minimum: 1, maximum: 247, default: 1 }));
/** Quiet time after each transaction, for slaves that need a rest between requests. */
const interRequestGap = Type.Optional(Duration);

export const ModbusTcpConnection = Type.Object(
  {
    protocol: Type.Literal('modbus-tcp'),
    host: Type.String({ minLength: 1, description: 'IP or host name of the device or gateway' }),
    port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535, default: 502 })),
    /** 1 unless set (firmware-specs/modbus/conventions.md); 0 is broadcast, gateways route 1–247. */
    unitId: Type.Optional(Type.Integer({ minimum: 0, maximum: 255, default: 1 })),
    ...common,
  },
  { additionalProperties: false },
);
export type ModbusTcpConnection = Type.Static<typeof ModbusTcpConnection>;

export const ModbusRtuConnection = Type.Object(
  {
    protocol: Type.Literal('modbus-rtu'),
    port: Type.String({ minLength: 1, description: 'serial device: /dev/ttyUSB0, /dev/ttyS1, /dev/serial/by-id/…' }),
    baudRate: Type.Optional(Type.Integer({ minimum: 300, maximum: 921_600, default: 9600 })),
    parity: Type.Optional(Type.Enum(['none', 'even', 'odd'] as const)),
    /** Always 8 in RTU; the field exists so the "8N1" from a device manual can be written down. */
    dataBits: Type.Optional(Type.Literal(8)),
    stopBits: Type.Optional(Type.Enum([1, 2] as const)),
    unitId: rtuUnitId,
    interRequestGap,
    ...common,
  },
  { additionalProperties: false },
);
export type ModbusRtuConnection = Type.Static<typeof ModbusRtuConnection>;

export const ModbusRtuTcpConnection = Type.Object(
  {
    protocol: Type.Literal('modbus-rtu-tcp'),
    host: Type.String({ minLength: 1, description: 'IP or host name of the serial device server' }),
    /** No default: serial servers use 4001, 8899, 502… whatever their RS-485 port is set to. */
    port: Type.Integer({ minimum: 1, maximum: 65535 }),
    unitId: rtuUnitId,
    interRequestGap,
    ...common,
  },
  { additionalProperties: false },
);
export type ModbusRtuTcpConnection = Type.Static<typeof ModbusRtuTcpConnection>;

/** What every Modbus session needs, whatever carries it. */
export interface ResolvedSession {
  unitId: number;
  timeoutMs: number;
  retries: number;
  maxGap: number;
  gapMs: number;
}

export interface ResolvedModbusTcp extends ResolvedSession {
  host: string;
  port: number;
}

export interface ResolvedModbusRtu extends ResolvedSession {
  path: string;
  serial: SerialSettings;
}

function session(c: { unitId?: number; timeout?: Duration; retries?: number; maxGap?: number; interRequestGap?: Duration }): ResolvedSession {
  return {
    unitId: c.unitId ?? 1,
    timeoutMs: c.timeout === undefined ? 1000 : durationMs(c.timeout),
    retries: c.retries ?? 1,
    maxGap: c.maxGap ?? 0,
    gapMs: c.interRequestGap === undefined ? 0 : durationMs(c.interRequestGap),
  };
}

/** Defaults from the register conventions: port 502, unit 1, 1 s timeout, one retry. */
export function resolveModbusTcp(conn: ConnectionConfig): ResolvedModbusTcp {
  const c = conn as unknown as ModbusTcpConnection;
  return { host: c.host, port: c.port ?? 502, ...session(c) };
}

/** RTU over TCP: the serial server's host and port, the slaves' RTU settings. */
export function resolveModbusRtuTcp(conn: ConnectionConfig): ResolvedModbusTcp {
  const c = conn as unknown as ModbusRtuTcpConnection;
  return { host: c.host, port: c.port, ...session(c) };
}

/** 9600 8N1 unless set: what most field sensors ship with. */
export function resolveModbusRtu(conn: ConnectionConfig): ResolvedModbusRtu {
  const c = conn as unknown as ModbusRtuConnection;
  const parity: Parity = c.parity ?? 'none';
  return {
    path: c.port,
    serial: { baudRate: c.baudRate ?? 9600, parity, dataBits: 8, stopBits: c.stopBits ?? 1 },
    ...session(c),
  };
}
