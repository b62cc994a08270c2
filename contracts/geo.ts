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

/** Mean Earth radius (IUGG), metres. */
const EARTH_RADIUS_M = 6_371_008.8;

/**
 * Great-circle distance between two positions, metres (haversine). Good to well under a metre at the
 * distances a camera sees; what "cameras within 50 m of the detector" needs.
 */
export function distanceMetres(a: Location, b: Location): number {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLon = (b.lon - a.lon) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_M * Math.asin(Math.min(1, Math.sqrt(h)));
}
