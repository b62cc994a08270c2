import Type from 'typebox';
import { Duration, durationMs } from '../../../contracts/duration.js';
import type { ConnectionConfig } from '../driver.js';

/** The `connection` block of a Modbus TCP device in edge.yaml. */
export const ModbusTcpConnection = Type.Object(
  {
    protocol: Type.Literal('modbus-tcp'),
    host: Type.String({ minLength: 1, description: 'IP or host name of the device or gateway' }),
    port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535, default: 502 })),
    /** 1 unless set (firmware-specs/modbus/conventions.md); 0 is broadcast, gateways route 1–247. */
    unitId: Type.Optional(Type.Integer({ minimum: 0, maximum: 255, default: 1 })),
    timeout: Type.Optional(Duration),
    retries: Type.Optional(Type.Integer({ minimum: 0, maximum: 5 })),
    /** Unused registers one request may read across to merge two blocks (0: contiguous only). */
    maxGap: Type.Optional(Type.Integer({ minimum: 0, maximum: 124 })),
  },
  { additionalProperties: false },
);
export type ModbusTcpConnection = Type.Static<typeof ModbusTcpConnection>;

export interface ResolvedModbusTcp {
  host: string;
  port: number;
  unitId: number;
  timeoutMs: number;
  retries: number;
  maxGap: number;
}

/** Defaults from the register conventions: port 502, unit 1, 1 s timeout, one retry. */
export function resolveModbusTcp(conn: ConnectionConfig): ResolvedModbusTcp {
  const c = conn as unknown as ModbusTcpConnection;
  return {
    host: c.host,
    port: c.port ?? 502,
    unitId: c.unitId ?? 1,
    timeoutMs: c.timeout === undefined ? 1000 : durationMs(c.timeout),
    retries: c.retries ?? 1,
    maxGap: c.maxGap ?? 0,
  };
}
