/**
 * Units a profile may name. A profile with a unit outside this list fails validation, so a typo
 * ("metre", "degC") never reaches a dashboard. Add a unit here, with its meaning, when a new model needs it.
 */
export const UNITS: Record<string, string> = {
  m: 'metre',
  cm: 'centimetre',
  mm: 'millimetre',
  'mm/h': 'millimetres per hour (rain intensity)',
  'm/s': 'metres per second',
  'm3/h': 'cubic metres per hour',
  '°C': 'degree Celsius',
  '%RH': 'relative humidity, percent',
  '%': 'percent',
  '%LEL': 'percent of the lower explosive limit',
  ppm: 'parts per million',
  'dB/m': 'smoke obscuration, decibels per metre',
  '°': 'degree of angle',
  V: 'volt',
  mA: 'milliampere',
  A: 'ampere',
  kW: 'kilowatt',
  kPa: 'kilopascal',
  MPa: 'megapascal',
  Hz: 'hertz',
  s: 'second',
  count: 'a count of events',
  dBm: 'signal strength, decibel-milliwatts',
  dB: 'decibel, a ratio (signal-to-noise ratio of a radio link)',
};

export function isKnownUnit(unit: string): boolean {
  return Object.hasOwn(UNITS, unit);
}
