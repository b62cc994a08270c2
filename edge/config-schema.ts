// The shape of edge.yaml. Semantic checks (profiles exist, ids unique, rule files load, connection
// blocks suit their driver) live in config.ts; this is only what a JSON Schema can say.
import Type from 'typebox';
import { Duration } from '../contracts/duration.js';
import { Location } from '../contracts/geo.js';
import { MqttSection } from './broker/config.js';
import { FirmwareSection } from './firmware/config.js';
import { NodeRedSection } from './node-red/config.js';

/**
 * Device and edge ids end up in alarm ids, URLs and log lines: keep them to the characters the alarm
 * envelope's ids allow.
 */
const Id = Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9][A-Za-z0-9._:-]*$' });

export const CloudSection = Type.Object(
  {
    url: Type.String({ pattern: '^https?://[^\\s]+$', description: 'the county cloud, e.g. https://gridsense.county.gov.cn' }),
    token: Type.Optional(Type.String({ minLength: 1, description: 'edge token issued by the cloud' })),
    tokenFile: Type.Optional(Type.String({ minLength: 1, description: 'file holding the edge token' })),
    batchSize: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
    /** The cloud manages this edge's devices and rules (remote configuration; edge/remote-config.ts). */
    remoteConfig: Type.Optional(Type.Boolean()),
    /** How often the edge reports its health to the cloud (default 60s). */
    heartbeat: Type.Optional(Duration),
    /** Outbox entries per second the uplink sends at most (default 200): a long outage's backlog replays paced, not as a flood. */
    replayRatePerS: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000 })),
  },
  { additionalProperties: false },
);

export const InfluxSection = Type.Object(
  {
    url: Type.String({ pattern: '^https?://[^\\s]+$' }),
    database: Type.String({ minLength: 1 }),
    username: Type.Optional(Type.String()),
    password: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);

export const Influx2Section = Type.Object(
  {
    url: Type.String({ pattern: '^https?://[^\\s]+$' }),
    token: Type.String({ minLength: 1 }),
    org: Type.String({ minLength: 1 }),
    bucket: Type.String({ minLength: 1 }),
  },
  { additionalProperties: false },
);

/** Bytes: a number, or a number with KB, MB, GB (powers of 1024). */
export const ByteSize = Type.Union([Type.Integer({ minimum: 1 }), Type.String({ pattern: '^\\s*\\d+(\\.\\d+)?\\s*(B|KB|MB|GB)?\\s*$' })]);

export const OutboxSection = Type.Object(
  {
    /** Disk quota of the queued entries' payloads (default 256MB). Over it, telemetry summaries go first, oldest first; alarms are never dropped. */
    maxBytes: Type.Optional(ByteSize),
  },
  { additionalProperties: false },
);

export const TelemetrySection = Type.Object(
  {
    type: Type.Optional(Type.Union([Type.Literal('sqlite'), Type.Literal('influxdb'), Type.Literal('influxdb2')])),
    retention: Type.Optional(Duration),
    influxdb: Type.Optional(InfluxSection),
    influxdb2: Type.Optional(Influx2Section),
    /** How often each device/point is summarised (min/max/mean/last/count) for the cloud (default 5m; "off": never). */
    summaryInterval: Type.Optional(Type.Union([Duration, Type.Literal('off')])),
    batchSize: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000 })),
    flushInterval: Type.Optional(Duration),
    /** Readings held in memory while the store is unreachable; the oldest go first beyond this. */
    maxBuffer: Type.Optional(Type.Integer({ minimum: 1 })),
  },
  { additionalProperties: false },
);

export const DeviceSection = Type.Object(
  {
    id: Id,
    name: Type.Optional(Type.String()),
    profile: Type.String({ minLength: 1 }),
    /** `protocol` picks the driver; the driver validates the rest. */
    connection: Type.Object({ protocol: Type.String({ minLength: 1 }) }),
    location: Type.Optional(Location),
    site: Type.Optional(Type.String({ maxLength: 128, pattern: '^[a-z][a-z0-9_]*$' })),
    /** The building or compound it is in: rules combine devices of one place (smoke AND heat). */
    place: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    pollInterval: Type.Optional(Duration),
    offlineAfterMisses: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
    overrides: Type.Optional(Type.Record(Type.String(), Type.Record(Type.String(), Type.Unknown()))),
    /** Cameras (device ids) that see this device: a rule's snapshot action takes their pictures. */
    cameras: Type.Optional(Type.Array(Id, { minItems: 1, maxItems: 16, uniqueItems: true })),
  },
  { additionalProperties: false },
);

/** The edge's local HTTP API on 127.0.0.1 (devices, snapshots, telemetry) for a technician on site. */
export const LocalApiSection = Type.Object(
  {
    /** TCP port on 127.0.0.1 (0: any free port). */
    port: Type.Integer({ minimum: 0, maximum: 65535 }),
    /** When set, every request needs `Authorization: Bearer <token>`. */
    token: Type.Optional(Type.String({ minLength: 16, maxLength: 256 })),
  },
  { additionalProperties: false },
);

export const EdgeConfigFile = Type.Object(
  {
    edge: Type.Object({ id: Id, dataDir: Type.String({ minLength: 1 }) }, { additionalProperties: false }),
    cloud: CloudSection,
    telemetry: Type.Optional(TelemetrySection),
    outbox: Type.Optional(OutboxSection),
    mqtt: Type.Optional(MqttSection),
    firmware: Type.Optional(FirmwareSection),
    nodeRed: Type.Optional(NodeRedSection),
    profiles: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
    rules: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
    devices: Type.Array(DeviceSection),
    localApi: Type.Optional(LocalApiSection),
  },
  { additionalProperties: false },
);
export type EdgeConfigFile = Type.Static<typeof EdgeConfigFile>;
