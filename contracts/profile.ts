import Type from 'typebox';

/** Modbus tables, named as the protocol names them; each fixes the read function code. */
export const MODBUS_TABLES = ['coil', 'discrete_input', 'input_register', 'holding_register'] as const;
export type ModbusTable = (typeof MODBUS_TABLES)[number];

/** Wire data types a Modbus point may have. */
export const MODBUS_DATA_TYPES = ['bool', 'int16', 'uint16', 'int32', 'uint32', 'float32', 'float64', 'string'] as const;
export type ModbusDataType = (typeof MODBUS_DATA_TYPES)[number];

/**
 * Byte and word order of multi-register values, as the letters of a big-endian ABCD value appear on
 * the wire: ABCD is plain big-endian, CDAB swaps the 16-bit words, BADC swaps bytes in each word,
 * DCBA is little-endian.
 */
export const BYTE_ORDERS = ['ABCD', 'CDAB', 'BADC', 'DCBA'] as const;
export type ByteOrder = (typeof BYTE_ORDERS)[number];


export const ModbusPointAttributes = Type.Object(
  {
    table: Type.Enum(MODBUS_TABLES),
    /** Zero-based protocol address (register 40001 is holding_register 0). */
    address: Type.Integer({ minimum: 0, maximum: 65535 }),
    dataType: Type.Enum(MODBUS_DATA_TYPES),
    order: Type.Optional(Type.Enum(BYTE_ORDERS)),
    /** For a bit field inside a 16-bit register: which bit (0 = least significant). */
    bit: Type.Optional(Type.Integer({ minimum: 0, maximum: 15 })),
    /** For strings: how many registers (two characters each). */
    length: Type.Optional(Type.Integer({ minimum: 1, maximum: 125 })),
  },
  { additionalProperties: false },
);
export type ModbusPointAttributes = Type.Static<typeof ModbusPointAttributes>;

/** Binary payload layout of one point: where in the message its bytes sit (the Modbus data types). */
export const BinaryField = Type.Object(
  {
    /** Byte offset in the payload. */
    offset: Type.Integer({ minimum: 0, maximum: 65535 }),
    dataType: Type.Enum(MODBUS_DATA_TYPES),
    order: Type.Optional(Type.Enum(BYTE_ORDERS)),
    bit: Type.Optional(Type.Integer({ minimum: 0, maximum: 15 })),
    /** For strings: bytes. */
    length: Type.Optional(Type.Integer({ minimum: 1, maximum: 1024 })),
  },
  { additionalProperties: false },
);
export type BinaryField = Type.Static<typeof BinaryField>;

export const MqttPointAttributes = Type.Object(
  {
    /**
     * Topic the value arrives on, relative to the device's topic root (default root `devices/<deviceId>/`),
     * e.g. `telemetry` or `events/door`. MQTT wildcards are not allowed here.
     */
    topic: Type.String({ minLength: 1, maxLength: 256, pattern: '^[^#+]+$' }),
    /** JSON payloads: path to the value, dot and [index] syntax, e.g. `smoke.density` or `sensors[0].t`. */
    json: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
    /** Binary payloads: the field's layout. Exactly one of json / binary. */
    binary: Type.Optional(BinaryField),
  },
  { additionalProperties: false },
);
export type MqttPointAttributes = Type.Static<typeof MqttPointAttributes>;

export const OpcuaPointAttributes = Type.Object(
  {
    /** OPC UA node id; `{prefix}` is replaced by the device connection's `nodePrefix`, e.g. `ns=2;s={prefix}.Level`. */
    nodeId: Type.String({ minLength: 3, maxLength: 512 }),
    /** Sampling interval for the monitored item, ms (default: the device's poll interval). */
    samplingInterval: Type.Optional(Type.Integer({ minimum: 0 })),
  },
  { additionalProperties: false },
);
export type OpcuaPointAttributes = Type.Static<typeof OpcuaPointAttributes>;

export const PointRange = Type.Object(
  { min: Type.Number(), max: Type.Number() },
  { additionalProperties: false },
);

export const ProfilePoint = Type.Object(
  {
    /** snake_case; the name rules and the cloud use. */
    name: Type.String({ pattern: '^[a-z][a-z0-9_]*$', maxLength: 64 }),
    description: Type.Optional(Type.String()),
    /** Engineering value type after scaling. */
    type: Type.Enum(['number', 'boolean', 'string'] as const),
    unit: Type.Optional(Type.String()),
    /** engineering = raw * scale + offset */
    scale: Type.Optional(Type.Number()),
    offset: Type.Optional(Type.Number()),
    /** Physically sane range; a value outside it is a bad-quality reading (out_of_range). */
    range: Type.Optional(PointRange),
    access: Type.Optional(Type.Enum(['read', 'readwrite', 'write'] as const)),
    modbus: Type.Optional(ModbusPointAttributes),
    mqtt: Type.Optional(MqttPointAttributes),
    opcua: Type.Optional(OpcuaPointAttributes),
  },
  { additionalProperties: false },
);
export type ProfilePoint = Type.Static<typeof ProfilePoint>;

/**
 * `camera`: an ONVIF or RTSP camera (edge/drivers/camera/). Its points need no protocol block: the
 * point's name says what it is — a fact of the RTSP probe (online, codec, width, height, fps,
 * bitrate_kbps, keyframe_interval_s, black, frozen) or an ONVIF event (motion, tamper, video_loss).
 */
export const PROTOCOLS = ['modbus', 'mqtt', 'opcua', 'camera'] as const;
export type Protocol = (typeof PROTOCOLS)[number];

export const DeviceProfile = Type.Object(
  {
    /** `<vendor>/<model>`, lower-case, unique across the library. */
    id: Type.String({ pattern: '^[a-z0-9][a-z0-9-]*/[a-z0-9][a-z0-9._-]*$' }),
    vendor: Type.String({ minLength: 1 }),
    model: Type.String({ minLength: 1 }),
    name: Type.String({ minLength: 1 }),
    /** Chinese name a technician sees on the device label or in the governance UI. */
    nameZh: Type.Optional(Type.String()),
    description: Type.Optional(Type.String()),
    /** What the device senses; the cloud uses it to pick an event category. */
    kind: Type.String({ pattern: '^[a-z][a-z0-9_]*$' }),
    protocol: Type.Enum(PROTOCOLS),
    points: Type.Array(ProfilePoint, { minItems: 1 }),
    /** Rule files (relative to the rules library) that apply to every device of this model. */
    defaultRules: Type.Optional(Type.Array(Type.String())),
    /** Seconds without an answer before the device counts as offline. */
    offlineAfterSeconds: Type.Optional(Type.Integer({ minimum: 1 })),
  },
  { additionalProperties: false },
);
export type DeviceProfile = Type.Static<typeof DeviceProfile>;
