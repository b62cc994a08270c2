// The `connection` block of an MQTT device in edge.yaml. Two shapes share the block:
//   embedded broker (default): username + passwordHash (or password) are the DEVICE's login to the edge;
//   external broker (`broker: mqtt://…`): username + password are the EDGE's login to that broker, and
//   the broker (Mosquitto, EMQX) authenticates the devices itself. MQTT 5 devices need an external broker.
import Type from 'typebox';
import type { ErrorDetail } from '../../../contracts/errors.js';
import { schemaErrors } from '../../../contracts/validate.js';
import { defaultTopicRoot, isTopicRoot } from '../../broker/acl.js';
import { isPasswordHash, PASSWORD_HASH_PATTERN } from '../../broker/password.js';
import type { DeviceSecret } from '../../broker/accounts.js';
import type { ConnectionConfig } from '../driver.js';

const BROKER_URL = '^mqtts?://[^\\s/:@]+(:\\d{1,5})?/?$';
const RELATIVE_TOPIC = '^[^/#+$][^#+]*[^/#+]$|^[^/#+$]$';

export const MqttConnection = Type.Object(
  {
    protocol: Type.Literal('mqtt'),
    /** The device's id; the edge fills it in from the device entry (it sets the default topic root). */
    deviceId: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    broker: Type.Optional(
      Type.Union([Type.Literal('embedded'), Type.String({ pattern: BROKER_URL, description: 'mqtt://host:port or mqtts://host:port' })], {
        description: 'embedded (default): the edge\'s own broker; or an existing broker\'s URL',
      }),
    ),
    username: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
    password: Type.Optional(Type.String({ maxLength: 256 })),
    /** Embedded broker only: scrypt hash of the device's password (hashPassword in edge/broker/password.ts). */
    passwordHash: Type.Optional(Type.String({ pattern: PASSWORD_HASH_PATTERN })),
    /** Prefix of every topic of the device, ending in `/` (default `devices/<deviceId>/`). */
    topicRoot: Type.Optional(Type.String({ minLength: 2, maxLength: 256 })),
    /** Topic (under the root) of the device's will / online flag: `offline`, `online` or {"online": bool} (default `status`). */
    statusTopic: Type.Optional(Type.String({ minLength: 1, maxLength: 256, pattern: RELATIVE_TOPIC })),
    /** External broker only: the edge's client id (default gridsense-edge-<random>). */
    clientId: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    /** External broker only: 4 = MQTT 3.1.1 (default), 5 = MQTT 5. */
    protocolVersion: Type.Optional(Type.Union([Type.Literal(4), Type.Literal(5)])),
    /** External broker only, mqtts: CA certificate file (PEM) that signs the broker's certificate. */
    caFile: Type.Optional(Type.String({ minLength: 1 })),
    /** QoS of the edge's subscription and of commands (default 1). */
    qos: Type.Optional(Type.Union([Type.Literal(0), Type.Literal(1), Type.Literal(2)])),
  },
  { additionalProperties: false },
);
export type MqttConnection = Type.Static<typeof MqttConnection>;

export type ResolvedMqtt = ResolvedEmbedded | ResolvedExternal;

interface Common {
  deviceId: string;
  root: string;
  /** Relative to the root. */
  statusTopic: string;
  qos: 0 | 1 | 2;
}

export interface ResolvedEmbedded extends Common {
  broker: 'embedded';
  username: string;
  secret: DeviceSecret;
}

export interface ResolvedExternal extends Common {
  broker: 'external';
  url: string;
  username?: string;
  password?: string;
  clientId?: string;
  protocolVersion: 4 | 5;
  caFile?: string;
}

/** Schema problems plus what depends on which broker the device uses. */
export function mqttConnectionErrors(conn: ConnectionConfig): ErrorDetail[] {
  const details = schemaErrors(MqttConnection, conn);
  if (details.length > 0) return details;
  const c = conn as unknown as MqttConnection;
  const add = (path: string, message: string) => details.push({ path, message });
  if (c.topicRoot !== undefined && !isTopicRoot(c.topicRoot)) {
    add('/topicRoot', `"${c.topicRoot}" is not a topic root: levels joined by "/", ending in "/", no "+", "#", leading "$" or empty level (e.g. "devices/wl-001/")`);
  }
  if (c.passwordHash !== undefined && !isPasswordHash(c.passwordHash)) {
    add('/passwordHash', 'scrypt parameters out of range (N a power of two ≤ 2^20, r ≤ 32, p ≤ 16)');
  }
  if (c.broker === undefined || c.broker === 'embedded') {
    if (c.username === undefined) add('/username', 'the embedded broker needs the device\'s username');
    if ((c.password === undefined) === (c.passwordHash === undefined)) add('', 'the embedded broker needs exactly one of "passwordHash" (preferred) or "password"');
    for (const k of ['clientId', 'protocolVersion', 'caFile'] as const) {
      if (c[k] !== undefined) add(`/${k}`, `applies to an external broker only (broker: mqtt://…); the embedded broker speaks MQTT 3.1.1`);
    }
  } else {
    if (c.passwordHash !== undefined) add('/passwordHash', 'an external broker needs the edge\'s own password ("password"); devices log in to that broker, not to the edge');
    if (c.password !== undefined && c.username === undefined) add('/username', 'a password needs a username');
    if (c.caFile !== undefined && !c.broker.startsWith('mqtts://')) add('/caFile', 'applies to mqtts:// only');
  }
  return details;
}

/** Defaults: the embedded broker, root `devices/<deviceId>/`, status topic `status`, QoS 1. */
export function resolveMqtt(conn: ConnectionConfig): ResolvedMqtt {
  const c = conn as unknown as MqttConnection;
  // Without the device id (a caller that does not pass it), the username is the best stand-in.
  const deviceId = c.deviceId ?? c.username ?? 'unknown';
  const common: Common = {
    deviceId,
    root: c.topicRoot ?? defaultTopicRoot(deviceId),
    statusTopic: c.statusTopic ?? 'status',
    qos: c.qos ?? 1,
  };
  if (c.broker === undefined || c.broker === 'embedded') {
    const secret: DeviceSecret = c.passwordHash !== undefined ? { passwordHash: c.passwordHash } : { password: c.password ?? '' };
    return { ...common, broker: 'embedded', username: c.username ?? deviceId, secret };
  }
  return {
    ...common,
    broker: 'external',
    url: c.broker.replace(/\/$/, ''),
    protocolVersion: c.protocolVersion ?? 4,
    ...(c.username !== undefined ? { username: c.username } : {}),
    ...(c.password !== undefined ? { password: c.password } : {}),
    ...(c.clientId !== undefined ? { clientId: c.clientId } : {}),
    ...(c.caFile !== undefined ? { caFile: c.caFile } : {}),
  };
}
