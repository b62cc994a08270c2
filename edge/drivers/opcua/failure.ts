// OPC UA failures as stable, snake_case reasons: a StatusCode name (BadNodeIdUnknown →
// opcua_bad_node_id_unknown) or the socket's own (connection_refused…), what a reading carries.
import type { ErrorCode } from '../../../contracts/errors.js';
import { DeviceFailure } from '../failure.js';

/** A failed OPC UA request or session (see DeviceFailure). */
export class OpcuaFailure extends DeviceFailure {}

/** `BadNodeIdUnknown` → `opcua_bad_node_id_unknown`. */
export function statusReason(statusName: string): string {
  const snake = statusName
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .toLowerCase();
  return `opcua_${snake}`;
}

/** The severity bits of a StatusCode (Part 4, 7.39): 10 is Bad; Good and Uncertain carry a usable value. */
export function isBadStatus(value: number): boolean {
  return value >>> 30 === 2 || value >>> 30 === 3;
}

/**
 * Refusals that retrying soon cannot fix and that a server may count against us: a wrong password
 * retried every second locks the account on many PLCs, so these wait the longest backoff.
 */
const SECURITY_STATUSES = /^Bad(UserAccessDenied|IdentityToken(Invalid|Rejected)|Certificate\w*|SecurityChecksFailed|SecurityModeRejected|SecurityPolicyRejected|NoValidCertificates|ApplicationSignatureInvalid|UserSignatureInvalid)$/;

/** Status codes that mean the session itself is gone: whatever was asked, reconnect. */
const SESSION_GONE = /^Bad(SessionIdInvalid|SessionClosed|SessionNotActivated|SecureChannelIdInvalid|SecureChannelClosed|ConnectionClosed|NotConnected|ServerHalted|Shutdown)$/;

export function isSecurityStatus(statusName: string): boolean {
  return SECURITY_STATUSES.test(statusName);
}

/** The failure means the session is unusable (not just this request): drop it and reconnect. */
export function isSessionGone(f: OpcuaFailure): boolean {
  if (f.reason === 'connection_lost') return true;
  const status = /\b(Bad[A-Z][A-Za-z]+)\b/.exec(f.message)?.[1];
  return status !== undefined && SESSION_GONE.test(status);
}

const SOCKET_REASONS: [RegExp, string][] = [
  [/ECONNREFUSED/, 'connection_refused'],
  [/EHOSTUNREACH|ENETUNREACH/, 'host_unreachable'],
  [/ENOTFOUND|EAI_AGAIN/, 'host_not_found'],
  [/ETIMEDOUT|Transaction has timed out|timed out/i, 'timeout'],
  [/Cannot find an Endpoint matching/i, 'opcua_no_matching_endpoint'],
  [/ECONNRESET|EPIPE|premature|socket has been disconnected|connection.*(lost|closed)/i, 'connection_lost'],
];

/**
 * Maps what node-opcua threw while connecting or opening the session. node-opcua reports status codes
 * inside messages ("... BadUserAccessDenied (0x801f0000)"), so the name is taken from the text.
 */
export function toOpcuaFailure(err: unknown, code: ErrorCode = 'GS_ERR_DEVICE_UNREACHABLE'): OpcuaFailure {
  if (err instanceof OpcuaFailure) return err;
  const message = err instanceof Error ? err.message : String(err);
  const status = /\b(Bad[A-Z][A-Za-z]+)\b/.exec(message)?.[1];
  if (status) {
    const c = isSecurityStatus(status) ? 'GS_ERR_OPCUA_SECURITY' : code;
    return new OpcuaFailure(c, statusReason(status), true, message, { cause: err });
  }
  const errno = (err as { code?: unknown } | undefined)?.code;
  const text = typeof errno === 'string' ? `${errno} ${message}` : message;
  for (const [re, reason] of SOCKET_REASONS) {
    if (!re.test(text)) continue;
    const c = reason === 'timeout' ? 'GS_ERR_OPCUA_TIMEOUT' : reason === 'opcua_no_matching_endpoint' ? 'GS_ERR_OPCUA_SECURITY' : 'GS_ERR_DEVICE_UNREACHABLE';
    return new OpcuaFailure(c, reason, true, message, { cause: err });
  }
  return new OpcuaFailure(code, 'opcua_error', true, message, { cause: err });
}

/** A security refusal (wrong password, untrusted certificate, no such endpoint): worth the long wait. */
export function isSecurityFailure(f: OpcuaFailure): boolean {
  return f.code === 'GS_ERR_OPCUA_SECURITY';
}
