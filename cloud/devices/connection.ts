// A device's connection block checked in the cloud by the edge's own validators (the same functions
// its drivers call), so a registered device is one the edge will accept. Only the light connection
// modules are imported, never the drivers themselves (no serial ports, brokers or OPC UA stacks).
import type { ErrorDetail } from '../../contracts/errors.js';
import type { Protocol } from '../../contracts/profile.js';
import type { ConnectionConfig } from '../../edge/drivers/driver.js';
import { ModbusRtuConnection, ModbusRtuTcpConnection, ModbusTcpConnection, resolveModbusRtu } from '../../edge/drivers/modbus/connection.js';
import { connectionProblems, RTU_HINTS, RTU_TCP_HINTS, TCP_HINTS, timeoutFitsLine } from '../../edge/drivers/modbus/validate-connection.js';
import { mqttConnectionErrors } from '../../edge/drivers/mqtt/connection.js';
import { opcuaConnectionErrors } from '../../edge/drivers/opcua/connection.js';
import { onvifConnectionErrors, rtspConnectionErrors } from '../../edge/drivers/camera/connection.js';

interface ConnectionKind {
  /** The profile protocol whose points it reads. */
  profileProtocol: Protocol;
  validate(conn: ConnectionConfig): ErrorDetail[];
}

const KINDS: Record<string, ConnectionKind> = {
  'modbus-tcp': { profileProtocol: 'modbus', validate: (c) => connectionProblems(ModbusTcpConnection, c, TCP_HINTS) },
  'modbus-rtu-tcp': { profileProtocol: 'modbus', validate: (c) => connectionProblems(ModbusRtuTcpConnection, c, RTU_TCP_HINTS) },
  'modbus-rtu': {
    profileProtocol: 'modbus',
    validate: (c) => {
      const p = connectionProblems(ModbusRtuConnection, c, RTU_HINTS);
      if (p.length > 0) return p;
      const r = resolveModbusRtu(c);
      return timeoutFitsLine(r.timeoutMs, c.timeout === undefined, r.serial.baudRate, r.serial.parity, r.serial.stopBits);
    },
  },
  mqtt: { profileProtocol: 'mqtt', validate: mqttConnectionErrors },
  opcua: { profileProtocol: 'opcua', validate: opcuaConnectionErrors },
  onvif: { profileProtocol: 'camera', validate: onvifConnectionErrors },
  rtsp: { profileProtocol: 'camera', validate: rtspConnectionErrors },
};

export const CONNECTION_PROTOCOLS = Object.keys(KINDS).sort();

/** Problems of `conn` for a device of a `profileProtocol` profile; paths relative to the block. */
export function connectionErrors(conn: ConnectionConfig, profileProtocol: Protocol | undefined): ErrorDetail[] {
  const kind = KINDS[conn.protocol];
  if (!kind) return [{ path: '/protocol', message: `no driver for "${conn.protocol}" (known: ${CONNECTION_PROTOCOLS.join(', ')})` }];
  const out = kind.validate(conn);
  if (profileProtocol && kind.profileProtocol !== profileProtocol) {
    out.push({ path: '/protocol', message: `the profile speaks ${profileProtocol}; "${conn.protocol}" is a ${kind.profileProtocol} connection` });
  }
  return out;
}

/** A device on the edge's embedded MQTT broker: it logs in to the edge with its own credentials. */
export function usesEmbeddedBroker(conn: { protocol: string; broker?: unknown }): boolean {
  return conn.protocol === 'mqtt' && (conn.broker === undefined || conn.broker === 'embedded');
}

/** The topic root an MQTT device owns on its edge's broker. */
export function topicRootOf(deviceId: string, conn: { topicRoot?: unknown }): string {
  return typeof conn.topicRoot === 'string' ? conn.topicRoot : `devices/${deviceId}/`;
}

/** The connection as shown through the API: secrets (password, passwordHash) never leave. */
export function redactConnection(conn: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(conn)) out[k] = k === 'password' || k === 'passwordHash' ? '[hidden]' : v;
  return out;
}
