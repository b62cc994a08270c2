// Connection problems as a technician should read them: "/parity: must be none, even or odd" rather
// than the schema's "must be equal to one of the allowed values", plus the checks a schema cannot make.
import type { TSchema } from 'typebox';
import type { ErrorDetail } from '../../../contracts/errors.js';
import { durationMs, type Duration } from '../../../contracts/duration.js';
import { schemaErrors } from '../../../contracts/validate.js';
import type { ConnectionConfig } from '../driver.js';
import { MAX_READ_REGISTERS } from './plan.js';

/** What each field must be, by field name: "must be <hint>" / "needs <field>: <hint>". */
export type FieldHints = Record<string, string>;

const COMMON: FieldHints = {
  timeout: 'a duration longer than 0, such as 500ms or 2s',
  retries: 'a whole number of retries, 0-5',
  maxGap: 'a number of registers, 0-124',
};

export const TCP_HINTS: FieldHints = {
  ...COMMON,
  host: 'the IP or host name of the device or gateway',
  port: 'a TCP port, 1-65535 (default 502)',
  unitId: 'a unit id, 0-255 (default 1)',
};

const RTU_COMMON: FieldHints = {
  ...COMMON,
  unitId: 'a slave address, 1-247 (0 is broadcast, which never answers)',
  interRequestGap: 'a duration such as 20ms, at most 10s',
};

export const RTU_HINTS: FieldHints = {
  ...RTU_COMMON,
  port: 'the serial device path, e.g. /dev/ttyUSB0 (a serial server on the network is protocol modbus-rtu-tcp with host and port)',
  baudRate: 'a baud rate such as 9600 or 19200 (300-921600)',
  parity: 'none, even or odd',
  dataBits: '8: Modbus RTU frames always carry 8 data bits (7 is Modbus ASCII)',
  stopBits: '1 or 2',
};

export const RTU_TCP_HINTS: FieldHints = {
  ...RTU_COMMON,
  host: 'the IP or host name of the serial device server',
  port: "the serial server's TCP port for its RS-485 line, 1-65535 (no default: 4001, 8899, 502…)",
};

/** Schema problems, one per field, in the words of `hints`. */
export function connectionProblems(schema: TSchema, conn: ConnectionConfig, hints: FieldHints): ErrorDetail[] {
  const out: ErrorDetail[] = [];
  const seen = new Set<string>();
  const add = (d: ErrorDetail) => {
    if (seen.has(d.path)) return;
    seen.add(d.path);
    out.push(d);
  };
  for (const e of schemaErrors(schema, conn)) {
    const missing = /^must have required propert(?:y|ies) (.+)$/.exec(e.message);
    if (e.path === '' && missing) {
      // Reported on the block itself: a missing field has no line of its own to point at.
      const fields = missing[1]!.split(/,\s*/);
      add({ path: '', message: fields.map((f) => (hints[f] ? `needs ${f}: ${hints[f]}` : `needs ${f}`)).join('; ') });
      continue;
    }
    const field = e.path.split('/')[1] ?? '';
    const hint = hints[field];
    add(hint && e.message !== 'is not a known field' ? { path: `/${field}`, message: `must be ${hint}` } : e);
  }
  if (out.length > 0) return out;
  if (conn.timeout !== undefined && durationMs(conn.timeout as Duration) <= 0) add({ path: '/timeout', message: `must be ${COMMON.timeout}` });
  if (conn.interRequestGap !== undefined && durationMs(conn.interRequestGap as Duration) > 10_000) {
    add({ path: '/interRequestGap', message: `must be ${RTU_COMMON.interRequestGap}: a longer rest would starve the other slaves` });
  }
  return out;
}

/**
 * Milliseconds a full 125-register answer (plus its request) spends on a serial line: 263 bytes of
 * start bit, 8 data bits, parity bit and stop bits each.
 */
export function longestExchangeMs(baudRate: number, parity: string, stopBits: number): number {
  const bitsPerChar = 1 + 8 + (parity === 'none' ? 0 : 1) + stopBits;
  const bytes = 8 + 5 + 2 * MAX_READ_REGISTERS;
  return Math.ceil((bytes * bitsPerChar * 1000) / baudRate);
}

/** A timeout shorter than the line needs to carry the biggest batched read would fail every such read. */
export function timeoutFitsLine(timeoutMs: number, isDefault: boolean, baudRate: number, parity: string, stopBits: number): ErrorDetail[] {
  const need = longestExchangeMs(baudRate, parity, stopBits);
  if (timeoutMs >= need) return [];
  const got = isDefault ? `the default, ${timeoutMs}ms, is too short: set timeout` : `got ${timeoutMs}ms`;
  return [{
    path: '/timeout',
    message: `must be at least ${need}ms: at ${baudRate} baud a full ${MAX_READ_REGISTERS}-register answer takes that long on the line (${got})`,
  }];
}
