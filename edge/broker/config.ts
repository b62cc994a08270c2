// The `mqtt:` section of edge.yaml: where the embedded broker listens and what it accepts.
import Type from 'typebox';

/** Not 1883: a town box often runs Mosquitto there already, and two brokers cannot share a port. */
export const DEFAULT_BROKER_PORT = 1884;
/** Loopback unless the technician opens it: sensors reach the box over its LAN address, set here. */
export const DEFAULT_BROKER_HOST = '127.0.0.1';
/** Sensor messages are small; 256 KiB leaves room for a burst of buffered readings. */
export const DEFAULT_MAX_PAYLOAD = 256 * 1024;

export const MqttBrokerSection = Type.Object(
  {
    /** Default true: the broker starts with the first device that uses it (`broker: embedded`). */
    enabled: Type.Optional(Type.Boolean()),
    host: Type.Optional(Type.String({ minLength: 1, description: 'address to listen on, e.g. 0.0.0.0 or the LAN IP (default 127.0.0.1)' })),
    /** 0 picks a free port (tests). */
    port: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535, description: 'TCP port (default 1884)' })),
    maxPayload: Type.Optional(Type.Integer({ minimum: 16, maximum: 256 * 1024 * 1024, description: 'largest PUBLISH payload in bytes (default 262144)' })),
  },
  { additionalProperties: false },
);

export const MqttSection = Type.Object(
  { broker: Type.Optional(MqttBrokerSection) },
  { additionalProperties: false },
);
export type MqttSection = Type.Static<typeof MqttSection>;

export interface BrokerSettings {
  enabled: boolean;
  host: string;
  port: number;
  maxPayload: number;
}

export interface MqttSettings {
  broker: BrokerSettings;
}

/** The section with its defaults filled in; an absent section is the defaults. */
export function resolveMqttSection(section: MqttSection | undefined): MqttSettings {
  const b = section?.broker ?? {};
  return {
    broker: {
      enabled: b.enabled ?? true,
      host: b.host ?? DEFAULT_BROKER_HOST,
      port: b.port ?? DEFAULT_BROKER_PORT,
      maxPayload: b.maxPayload ?? DEFAULT_MAX_PAYLOAD,
    },
  };
}
