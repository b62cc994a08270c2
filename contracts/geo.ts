import Type from 'typebox';

/** WGS84 position of a device or an alarm. */
export const Location = Type.Object(
  {
    lon: Type.Number({ minimum: -180, maximum: 180, description: 'longitude, WGS84 degrees' }),
    lat: Type.Number({ minimum: -90, maximum: 90, description: 'latitude, WGS84 degrees' }),
  },
  { additionalProperties: false},
);
export type Location = Type.Static<typeof Location>;
