// Modbus failures as stable, snake_case reasons: what a bad-quality reading carries and a technician
// searches for. Exception codes are the protocol's (Modbus Application Protocol v1.1b3, §7).
import { DeviceFailure } from '../failure.js';

const EXCEPTION_NAMES: Record<number, string> = {
  1: 'illegal_function',
  2: 'illegal_data_address',
  3: 'illegal_data_value',
  4: 'server_device_failure',
  5: 'acknowledge',
  6: 'server_device_busy',
  8: 'memory_parity_error',
  10: 'gateway_path_unavailable',
  11: 'gateway_target_failed_to_respond',
};

export function exceptionReason(code: number): string {
  return `modbus_exception_${code}_${EXCEPTION_NAMES[code] ?? 'unknown'}`;
}

/** A failed Modbus transaction (see DeviceFailure). */
export class ModbusFailure extends DeviceFailure {}

const SERIAL_REASONS: Array<[RegExp, string]> = [
  [/No such file or directory/i, 'serial_port_not_found'],
  [/Permission denied/i, 'serial_port_permission_denied'],
  [/Cannot lock port|Resource temporarily unavailable|Device or resource busy/i, 'serial_port_busy'],
  [/Inappropriate ioctl|cannot open|setting custom baud rate/i, 'serial_port_error'],
];

/**
 * The slave itself did not answer: silence after the retries, or a gateway saying so (10, 11). What
 * quarantines a slave; a dead link or a refused connection is the bus's fault, not the slave's.
 */
export function isSlaveSilence(f: ModbusFailure): boolean {
  return f.reason === 'timeout' || f.reason === exceptionReason(10) || f.reason === exceptionReason(11);
}

/** Maps whatever modbus-serial or the socket threw to a ModbusFailure. */
export function toModbusFailure(err: unknown): ModbusFailure {
  if (err instanceof ModbusFailure) return err;
  const e = err as { modbusCode?: unknown; errno?: unknown; code?: unknown; message?: unknown };
  if (typeof e?.modbusCode === 'number') {
    const reason = exceptionReason(e.modbusCode);
    // 10/11: a gateway answered for a device behind it that did not — the device itself is unreachable.
    return new ModbusFailure('GS_ERR_MODBUS_EXCEPTION', reason, e.modbusCode === 10 || e.modbusCode === 11, String(e.message), { cause: err });
  }
  const errno = typeof e?.errno === 'string' ? e.errno : typeof e?.code === 'string' ? e.code : undefined;
  const message = typeof e?.message === 'string' ? e.message : String(err);
  if (errno === 'ETIMEDOUT' || message === 'Timed out') return new ModbusFailure('GS_ERR_MODBUS_TIMEOUT', 'timeout', true, message, { cause: err });
  if (/CRC error|Data length error|Unexpected data|Bad/i.test(message) && errno === undefined) {
    return new ModbusFailure('GS_ERR_MODBUS_FRAME', 'bad_frame', false, message, { cause: err });
  }
  // modbus-serial's "Port Not Open" carries errno ECONNREFUSED, but it means the socket went away.
  if (message === 'Port Not Open') return new ModbusFailure('GS_ERR_DEVICE_UNREACHABLE', 'connection_lost', true, message, { cause: err });
  // serialport reports open failures as bare messages without errno.
  const serial = SERIAL_REASONS.find(([re]) => re.test(message));
  if (serial && errno === undefined) return new ModbusFailure('GS_ERR_DEVICE_UNREACHABLE', serial[1], true, message, { cause: err });
  const reason =
    errno === 'ECONNREFUSED' ? 'connection_refused'
    : errno === 'ECONNRESET' || errno === 'EPIPE' ? 'connection_lost'
    : errno === 'EHOSTUNREACH' || errno === 'ENETUNREACH' ? 'host_unreachable'
    : errno === 'ENOTFOUND' || errno === 'EAI_AGAIN' ? 'host_not_found'
    : 'connection_error';
  return new ModbusFailure('GS_ERR_DEVICE_UNREACHABLE', reason, true, message, { cause: err });
}
