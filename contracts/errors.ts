// One catalogue of stable error codes (GS_ERR_<AREA>_<CASE>) shared by edge, cloud and CLI.
// Callers match on `code`, never on message text; `status` is the HTTP status when it crosses HTTP.

export const ERRORS = {
  GS_ERR_VALIDATION: { status: 400, message: 'request failed validation' },
  GS_ERR_JSON_MALFORMED: { status: 400, message: 'body is not valid JSON' },
  GS_ERR_BODY_TOO_LARGE: { status: 413, message: 'request body is too large' },
  GS_ERR_MEDIA_TYPE: { status: 415, message: 'unsupported content type' },
  GS_ERR_NOT_FOUND: { status: 404, message: 'not found' },
  GS_ERR_ROUTE_NOT_FOUND: { status: 404, message: 'no such route' },
  GS_ERR_AUTH_MISSING: { status: 401, message: 'credentials are required' },
  GS_ERR_AUTH_INVALID: { status: 401, message: 'credentials are not valid' },
  GS_ERR_AUTH_FORBIDDEN: { status: 403, message: 'not allowed' },
  GS_ERR_CONFLICT: { status: 409, message: 'conflicts with existing state' },
  GS_ERR_INTERNAL: { status: 500, message: 'internal error' },

  GS_ERR_CONFIG_INVALID: { status: 400, message: 'configuration is not valid' },
  GS_ERR_CONFIG_YAML: { status: 400, message: 'configuration is not valid YAML' },
  GS_ERR_CONFIG_READ: { status: 400, message: 'configuration file cannot be read' },

  GS_ERR_PROFILE_INVALID: { status: 400, message: 'device profile is not valid' },
  GS_ERR_PROFILE_UNKNOWN: { status: 404, message: 'device profile is not known' },
  GS_ERR_RULE_INVALID: { status: 400, message: 'rule file is not valid' },

  GS_ERR_ALARM_INVALID: { status: 400, message: 'alarm is not valid' },
  GS_ERR_GRID_INVALID: { status: 400, message: 'grid GeoJSON is not valid' },
  GS_ERR_EVENT_NOT_FOUND: { status: 404, message: 'grid event not found' },
  GS_ERR_EVENT_TRANSITION: { status: 409, message: 'the event cannot take that step from its current status' },
  GS_ERR_EDGE_UNKNOWN: { status: 401, message: 'edge token is not known' },
  GS_ERR_EDGE_EXISTS: { status: 409, message: 'edge already exists' },

  GS_ERR_DEVICE_UNKNOWN: { status: 404, message: 'device is not known' },
  GS_ERR_DRIVER_CONNECTION: { status: 502, message: 'device connection is not valid' },
  GS_ERR_MODBUS_TIMEOUT: { status: 504, message: 'Modbus request timed out' },
  GS_ERR_MODBUS_EXCEPTION: { status: 502, message: 'Modbus device answered with an exception' },
  GS_ERR_MODBUS_FRAME: { status: 502, message: 'Modbus response is malformed' },
  GS_ERR_TELEMETRY_WRITE: { status: 503, message: 'telemetry store write failed' },
  GS_ERR_UPLINK_REJECTED: { status: 400, message: 'cloud rejected the upload' },

  // edge agent (appended)
  GS_ERR_DEVICE_UNREACHABLE: { status: 504, message: 'device cannot be reached' },
  GS_ERR_DRIVER_UNKNOWN: { status: 400, message: 'no driver for this connection protocol' },
  GS_ERR_DRIVER_CLOSED: { status: 503, message: 'driver session is closed' },
  GS_ERR_DRIVER_VALUE: { status: 400, message: 'value cannot be encoded for this point' },
  GS_ERR_OUTBOX_CLOSED: { status: 503, message: 'outbox is closed' },
  GS_ERR_STATE_CORRUPT: { status: 500, message: 'persisted edge state cannot be read' },

  // cloud service (appended)
  GS_ERR_ALARM_NOT_FOUND: { status: 404, message: 'alarm not found' },
  GS_ERR_GRID_NOT_FOUND: { status: 404, message: 'grid not found' },

  // MQTT: embedded broker and driver (appended)
  GS_ERR_MQTT_AUTH_REFUSED: { status: 401, message: 'MQTT client credentials were refused' },
  GS_ERR_MQTT_ACL_DENIED: { status: 403, message: "MQTT publish or subscribe outside the device's topic root" },
  GS_ERR_MQTT_PAYLOAD: { status: 400, message: 'MQTT payload cannot be decoded for this point' },
  GS_ERR_MQTT_PAYLOAD_TOO_LARGE: { status: 413, message: 'MQTT packet is larger than the broker allows' },
  GS_ERR_MQTT_BROKER: { status: 503, message: 'MQTT broker cannot be started or reached' },
  GS_ERR_MQTT_ACCOUNT_CONFLICT: { status: 409, message: 'MQTT username or topic root already belongs to another device' },

  // OPC UA driver (appended)
  GS_ERR_OPCUA_STATUS: { status: 502, message: 'OPC UA server answered with a bad status code' },
  GS_ERR_OPCUA_SECURITY: { status: 502, message: 'OPC UA server refused the secure channel or the session (certificate, security policy, user)' },
  GS_ERR_OPCUA_TIMEOUT: { status: 504, message: 'OPC UA request timed out' },

  // fleet: enrollment, device registry, claiming, remote configuration (appended)
  GS_ERR_ENROLL_TOKEN_INVALID: { status: 401, message: 'enrollment token is not known' },
  GS_ERR_ENROLL_TOKEN_USED: { status: 410, message: 'enrollment token was already used' },
  GS_ERR_ENROLL_TOKEN_EXPIRED: { status: 410, message: 'enrollment token has expired' },
  GS_ERR_EDGE_NOT_FOUND: { status: 404, message: 'edge not found' },
  GS_ERR_EDGE_REVOKED: { status: 409, message: 'edge is revoked' },
  GS_ERR_DEVICE_EXISTS: { status: 409, message: 'device already exists' },
  GS_ERR_DEVICE_STATE: { status: 409, message: 'the device cannot take that step in its current state' },
  GS_ERR_IMPORT_INVALID: { status: 400, message: 'import file has errors; nothing was imported' },
  GS_ERR_CLAIM_UNKNOWN: { status: 404, message: 'claim code is not known' },
  GS_ERR_CLAIM_USED: { status: 409, message: 'claim code was already used' },

  // firmware: artifacts, signatures, campaigns, OTA relay (appended)
  GS_ERR_FIRMWARE_CHECKSUM: { status: 400, message: 'firmware image does not match its SHA-256' },
  GS_ERR_FIRMWARE_SIGNATURE: { status: 400, message: 'firmware image is unsigned or its signature does not verify' },
  GS_ERR_FIRMWARE_JOB_STATE: { status: 409, message: 'the firmware job cannot move to that state from its current one' },
  GS_ERR_FIRMWARE_JOB_NOT_FOUND: { status: 404, message: 'firmware job not found' },
  GS_ERR_FIRMWARE_JOB_TIMEOUT: { status: 504, message: 'the firmware job did not finish in the time its campaign allows' },
  GS_ERR_FIRMWARE_KEY_INVALID: { status: 400, message: 'not an Ed25519 public key in PEM' },
  GS_ERR_FIRMWARE_KEY_EXISTS: { status: 409, message: 'this signing key is already registered' },
  GS_ERR_FIRMWARE_KEY_NOT_FOUND: { status: 404, message: 'signing key not found' },
  GS_ERR_FIRMWARE_ARTIFACT_EXISTS: { status: 409, message: 'this version of firmware for this profile was already uploaded' },
  GS_ERR_FIRMWARE_ARTIFACT_NOT_FOUND: { status: 404, message: 'firmware artifact not found' },
  GS_ERR_FIRMWARE_RANGE: { status: 416, message: 'the requested byte range cannot be served' },
  GS_ERR_FIRMWARE_CAMPAIGN_NOT_FOUND: { status: 404, message: 'firmware campaign not found' },
  GS_ERR_FIRMWARE_CAMPAIGN_STATE: { status: 409, message: 'the campaign cannot take that step in its current state' },
  GS_ERR_FIRMWARE_NO_TARGETS: { status: 400, message: 'the campaign selects no target' },
  // edge side: OTA relay to devices, edge self-update
  GS_ERR_FIRMWARE_UNSUPPORTED: { status: 400, message: 'the target cannot take this firmware image here' },
  GS_ERR_FIRMWARE_DOWNLOAD: { status: 502, message: 'firmware image cannot be downloaded' },
  GS_ERR_FIRMWARE_TIMEOUT: { status: 504, message: 'the device stopped answering during the firmware update' },
  GS_ERR_FIRMWARE_INSTALL: { status: 502, message: 'the device could not install the firmware image' },
  GS_ERR_FIRMWARE_UNHEALTHY: { status: 503, message: 'the updated edge agent did not report healthy in time; rolled back' },
  GS_ERR_FIRMWARE_OTA_MESSAGE: { status: 400, message: 'OTA message is malformed or out of range' },



  // grids: hierarchy, versions, workers and departments (appended)
  GS_ERR_GRID_VERSION_NOT_FOUND: { status: 404, message: 'no grid version at that time or number' },
  GS_ERR_WORKER_NOT_FOUND: { status: 404, message: 'grid worker not found' },
  GS_ERR_WORKER_EXISTS: { status: 409, message: 'grid worker already exists' },
  GS_ERR_DEPARTMENT_NOT_FOUND: { status: 404, message: 'department not found' },
  GS_ERR_DEPARTMENT_EXISTS: { status: 409, message: 'department already exists' },
  GS_ERR_ASSIGNEE_UNKNOWN: { status: 400, message: 'the assignee is not a known, serving grid worker or department' },
  GS_ERR_ASSIGNEE_SCOPE: { status: 400, message: "the assignee does not serve this event's town or category" },



  // camera snapshots and alarm evidence (appended)
  GS_ERR_SNAPSHOT_FAILED: { status: 502, message: 'the camera gave no snapshot' },
  GS_ERR_CAMERA_UNKNOWN: { status: 404, message: 'camera is not known' },
  GS_ERR_EVIDENCE_INVALID: { status: 400, message: 'evidence is not a JPEG image' },
  GS_ERR_EVIDENCE_CHECKSUM: { status: 400, message: 'evidence bytes do not match their SHA-256' },
  GS_ERR_EVIDENCE_NOT_FOUND: { status: 404, message: 'evidence not found' },
  GS_ERR_LOCAL_API: { status: 503, message: 'the edge local API cannot start' },



  // rule actions (device writes, snapshots) (appended)
  GS_ERR_ACTION_WRITE: { status: 502, message: 'a rule action could not write to the device' },
  GS_ERR_ACTION_SNAPSHOT: { status: 502, message: 'a rule action could not take a snapshot' },
  GS_ERR_ACTION_TARGET: { status: 400, message: 'a rule action names a device, point or camera the edge does not have' },



  // telemetry stores, outbox quota, telemetry summaries (appended)



  // Node-RED nodes and embedded editor (appended)
  GS_ERR_NODE_RED_MSG: { status: 400, message: 'a gridsense Node-RED node cannot take this message' },
  GS_ERR_NODE_RED_AUTH: { status: 400, message: 'the embedded Node-RED editor needs admin credentials' },
  GS_ERR_NODE_RED_START: { status: 503, message: 'the embedded Node-RED editor cannot start' },
  GS_ERR_NODE_RED_NO_EDGE: { status: 503, message: 'no gridsense edge is connected to this Node-RED runtime' },


} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof ERRORS;

export interface ErrorDetail {
  /** Where the problem is: a JSON pointer, or file + pointer for files. */
  path: string;
  message: string;
  file?: string;
}

export class GsError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: ErrorDetail[];

  constructor(code: ErrorCode, message?: string, details: ErrorDetail[] = [], options?: { cause?: unknown }) {
    super(message ?? ERRORS[code].message, options);
    this.name = 'GsError';
    this.code = code;
    this.status = ERRORS[code].status;
    this.details = details;
  }

  toJSON(): { code: ErrorCode; message: string; details?: ErrorDetail[] } {
    return this.details.length > 0
      ? { code: this.code, message: this.message, details: this.details }
      : { code: this.code, message: this.message };
  }

  /** One line per detail, as a technician reads it in a terminal. */
  describe(): string {
    if (this.details.length === 0) return `${this.code}: ${this.message}`;
    const lines = this.details.map((d) => `  ${d.file ? `${d.file}: ` : ''}${d.path || '/'}: ${d.message}`);
    return [`${this.code}: ${this.message}`, ...lines].join('\n');
  }
}

export function isGsError(err: unknown): err is GsError {
  return err instanceof GsError;
}
