import t from 'tap';
import { ProfileLibrary } from '../../device-profiles/library.js';
import type { DeviceProfile as Profile } from '../../contracts/profile.js';
import { applyProfile, toEngineering, toRaw } from './apply-profile.js';

const gauge = ProfileLibrary.load().get('generic/radar-water-level-gauge');
const TS = Date.UTC(2026, 0, 1);

t.test('raw × scale + offset, with the unit from the profile', async (t) => {
  const readings = applyProfile('wl-1', gauge, [
    { point: 'water_level', ok: true, value: 330 },
    { point: 'air_distance', ok: true, value: 8700 },
    { point: 'signal_fault', ok: true, value: false },
    { point: 'supply_voltage', ok: true, value: 121 },
  ], TS);
  t.same(readings, [
    { deviceId: 'wl-1', point: 'water_level', ts: TS, unit: 'm', value: 3.3, quality: 'good' },
    { deviceId: 'wl-1', point: 'air_distance', ts: TS, unit: 'm', value: 8.7, quality: 'good' },
    { deviceId: 'wl-1', point: 'signal_fault', ts: TS, value: false, quality: 'good' },
    { deviceId: 'wl-1', point: 'supply_voltage', ts: TS, unit: 'V', value: 12.1, quality: 'good' },
  ]);
  t.equal(readings[0]!.value, 3.3, 'no 3.3000000000000003');
});

t.test('out of range and driver errors are bad quality with a reason and no value', async (t) => {
  const [over, failed, unknown] = applyProfile('wl-1', gauge, [
    { point: 'water_level', ok: true, value: 2001 },
    { point: 'supply_voltage', ok: false, reason: 'timeout', unreachable: true },
    { point: 'nope', ok: true, value: 1 },
  ], TS);
  t.match(over, { value: null, quality: 'bad', reason: 'out_of_range', unit: 'm' });
  t.match(failed, { value: null, quality: 'bad', reason: 'timeout' });
  t.match(unknown, { value: null, quality: 'bad', reason: 'unknown_point' });
});

t.test('offset, NaN and type mismatches', async (t) => {
  const p: Profile = {
    ...gauge,
    points: [
      { name: 'temp', type: 'number', unit: '°C', scale: 0.1, offset: -40, range: { min: -40, max: 85 } },
      { name: 'label', type: 'string' },
      { name: 'flag', type: 'boolean' },
    ],
  };
  const r = applyProfile('d', p, [
    { point: 'temp', ok: true, value: 650 },
    { point: 'label', ok: true, value: 'RWL' },
    { point: 'flag', ok: true, value: 1 },
  ], TS);
  t.same(r.map((x) => x.value), [25, 'RWL', true]);
  t.match(applyProfile('d', p, [{ point: 'temp', ok: true, value: Number.NaN }], TS)[0], { quality: 'bad', reason: 'not_a_number' });
  t.match(applyProfile('d', p, [{ point: 'temp', ok: true, value: 'x' }], TS)[0], { quality: 'bad', reason: 'type_mismatch' });
  t.equal(toEngineering(650, { scale: 0.1, offset: -40 }), 25);
  t.equal(toRaw(25, { scale: 0.1, offset: -40 }), 650, 'toRaw inverts toEngineering');
});

t.test('a value the driver marks stale keeps its value with quality stale; out of range still wins', async (t) => {
  const p: Profile = { ...gauge, points: [{ name: 'temp', type: 'number', unit: '°C', scale: 0.1, range: { min: -40, max: 85 } }] };
  t.match(applyProfile('d', p, [{ point: 'temp', ok: true, value: 250, stale: true }], TS)[0], { value: 25, quality: 'stale', unit: '°C' });
  t.match(applyProfile('d', p, [{ point: 'temp', ok: true, value: 2500, stale: true }], TS)[0], { value: null, quality: 'bad', reason: 'out_of_range' });
});
