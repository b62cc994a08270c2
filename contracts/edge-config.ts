import Type from 'typebox';

/**
 * The part of an edge's configuration the cloud holds (remote configuration): its devices, with their
 * profiles, connections, locations and per-device rule overrides, and the library rule files it runs.
 * Device blocks are edge.yaml's `devices` entries as they are; the edge validates them exactly as it
 * validates its own file. Everything else (the edge's id, data folder, cloud, telemetry, MQTT broker)
 * stays in the edge's local edge.yaml.
 */
export const DesiredConfig = Type.Object(
  {
    /** Increases with every change; the edge reports the version it runs. */
    version: Type.Integer({ minimum: 1 }),
    /** Library rule files (bare names, e.g. water-level.yaml) besides the profiles' default rules. */
    rules: Type.Array(Type.String({ minLength: 1, maxLength: 256, pattern: '^[A-Za-z0-9._-]+$' }), { maxItems: 200 }),
    /** edge.yaml `devices` entries (see the edge's config reference). */
    devices: Type.Array(Type.Record(Type.String(), Type.Unknown()), { maxItems: 5000 }),
  },
  { additionalProperties: false },
);
export type DesiredConfig = Type.Static<typeof DesiredConfig>;

/** What the edge says after trying a desired configuration. */
export const ConfigReport = Type.Object(
  {
    version: Type.Integer({ minimum: 1 }),
    applied: Type.Boolean(),
    /** Why not, when applied is false: the error code, message and every detail with its path. */
    error: Type.Optional(
      Type.Object(
        {
          code: Type.String({ maxLength: 64 }),
          message: Type.String({ maxLength: 2000 }),
          details: Type.Optional(Type.Array(Type.Object({ path: Type.String({ maxLength: 512 }), message: Type.String({ maxLength: 1000 }) }, { additionalProperties: true }), { maxItems: 200 })),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
export type ConfigReport = Type.Static<typeof ConfigReport>;
