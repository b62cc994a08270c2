import t from 'tap';
import { brief, drive, gauge, gsErrorOf, MIN, ruleFrom, SEC, T0, viaJson, type Ev } from './test-support.js';
import { parseRuleFile } from './compile.js';
import { validateOverrides } from './overrides.js';

const RISING = `
  - id: wl-rising
    alarm: water_level_rising
    severity: major
    match: { kind: water_level }
    point: water_level
    rate: { rise: 0.3, within: 10m, clearRise: 0.1 }
`;
const rising = ruleFrom(RISING);

/** A reading every `every` from `from` to `to`, the value a function of the offset. */
function series(from: number, to: number, every: number, f: (ms: number) => number): Ev[] {
  const out: Ev[] = [];
  for (let ms = from; ms <= to; ms += every) out.push({ at: ms, value: f(ms) });
  return out;
}

t.test('rise: raises when the level has risen by the amount within the window', async (t) => {
  // 3.0 m, rising 5 cm a minute from 1 min: +0.3 m reached at 7 min.
  const { alarms } = drive(rising, series(0, 9 * MIN, 30 * SEC, (ms) => (ms < MIN ? 3.0 : 3.0 + 0.05 * ((ms - MIN) / MIN))));
  t.same(brief(alarms), ['raise@420s major 0.3'], 'at 7 min, the change (0.3, float noise tidied) is the alarm value');
  t.equal(alarms[0]!.threshold, 0.3);
  t.equal(alarms[0]!.unit, undefined, 'no unit on these readings');
  t.match(alarms[0]!.message, /^water_level rose 0\.3 within 10m \(now 3\.3; alarm at 0\.3\)$/);
});

t.test('rise: the same rise spread over more than the window raises nothing', async (t) => {
  // 0.3 m in 20 minutes: never 0.3 within 10.
  const { alarms } = drive(rising, series(0, 30 * MIN, 30 * SEC, (ms) => 3.0 + Math.min(0.3, (0.3 * ms) / (20 * MIN))));
  t.same(alarms, []);
});

t.test('rise is measured from the lowest value in the window, whatever the poll interval', async (t) => {
  const { alarms } = drive(rising, [{ at: 0, value: 3.2 }, { at: MIN, value: 3.0 }, { at: 2 * MIN, value: 3.1 }, { at: 9 * MIN, value: 3.31 }]);
  t.same(brief(alarms), ['raise@540s major 0.31'], 'from the 3.0 at 1 min, not the 3.2 at 0');
  const sparse = drive(rising, [{ at: 0, value: 3.0 }, { at: 11 * MIN, value: 3.5 }]);
  t.same(sparse.alarms, [], 'a value older than the window does not count: no rate is known over a gap');
});

t.test('clear: when the change within the window drops below clearRise (hysteresis between)', async (t) => {
  const up = drive(rising, [{ at: 0, value: 3.0 }, { at: 5 * MIN, value: 3.4 }]);
  t.same(brief(up.alarms), ['raise@300s major 0.4']);
  // Level stays at 3.4: the 3.0 leaves the window at 10 min; from then the change is 0.
  const flat = drive(rising, [{ at: 8 * MIN, value: 3.45 }, { at: 14 * MIN, value: 3.45 }, { at: 16 * MIN, value: 3.45 }], { state: up.state });
  t.same(brief(flat.alarms), ['clear@840s major 0.05'], 'at 8 min the rise is still 0.45; at 14 min it is 3.45 - 3.4 = 0.05 < 0.1');
  t.equal(flat.alarms[0]!.threshold, 0.1, 'a clear carries the clear amount');
  t.equal(flat.alarms[0]!.alarmId, up.alarms[0]!.alarmId);
  t.equal(flat.alarms[0]!.seq, 1);

  const between = drive(rising, [{ at: 12 * MIN, value: 3.6 }], { state: up.state });
  t.same(between.alarms, [], 'a change of 0.2 (between 0.1 and 0.3) neither raises again nor clears');
});

t.test('fall: mirrors rise; default clear amount is the raise amount', async (t) => {
  const falling = ruleFrom(`
  - id: sump-falling
    description: Sump draining fast
    alarm: water_level_falling
    severity: minor
    match: { kind: water_level }
    point: water_level
    rate: { fall: 1, within: 5m }
`);
  const { alarms } = drive(falling, [{ at: 0, value: 5 }, { at: MIN, value: 5.2, unit: 'm' }, { at: 3 * MIN, value: 4.1, unit: 'm' }, { at: 4 * MIN, value: 4.3, unit: 'm' }, { at: 7 * MIN, value: 4.3, unit: 'm' }]);
  t.same(brief(alarms), ['raise@180s minor 1.1', 'clear@240s minor 0.9'], 'from the 5.2 high; with no clearFall the alarm clears as soon as the fall is under 1 again');
  t.match(alarms[0]!.message, /^Sump draining fast: water_level fell 1\.1 m within 5m \(now 4\.1 m; alarm at 1 m\)$/);
  t.match(alarms[1]!.message, /cleared, water_level fall within 5m down to 0\.9 m/);
});

t.test('state keeps only the samples the window can still need', async (t) => {
  // Falling then rising: older higher samples are useless once a lower one arrives.
  const { state } = drive(rising, [{ at: 0, value: 3.5 }, { at: MIN, value: 3.4 }, { at: 2 * MIN, value: 3.2 }, { at: 3 * MIN, value: 3.3 }]);
  t.same(state.w, [[T0 + 2 * MIN, 3.2], [T0 + 3 * MIN, 3.3]], 'a monotonic queue: 3.5 and 3.4 are gone');
  // A counter rising at every 1 s poll for an hour keeps at most ~65 samples (1/64 of the window apart).
  const counter = ruleFrom(RISING.replace('within: 10m', 'within: 1h'));
  const long = drive(counter, series(0, 60 * MIN, SEC, (ms) => ms / 1e6));
  t.ok((long.state.w as unknown[]).length <= 66, `kept ${(long.state.w as unknown[]).length} samples for 3601 readings`);
  t.same(viaJson(long.state), long.state, 'plain JSON');
  const old = drive(rising, [{ at: 30 * MIN, value: 3.3 }], { state });
  t.same(old.state.w, [[T0 + 30 * MIN, 3.3]], 'samples older than the window are dropped');
});

t.test('bad, stale, non-numeric readings and other points change nothing', async (t) => {
  const s0 = drive(rising, [{ at: 0, value: 3.0 }]).state;
  for (const e of [
    { at: MIN, value: null, quality: 'bad' },
    { at: MIN, value: 4.0, quality: 'stale' },
    { at: MIN, value: 'high' },
    { at: MIN, value: 9, point: 'air_distance' },
  ] as Ev[]) {
    const r = drive(rising, [e], { state: s0 });
    t.equal(r.state, s0, JSON.stringify(e));
    t.same(r.alarms, []);
  }
});

t.test('a clock stepping back: samples from the future are dropped', async (t) => {
  const { state, alarms } = drive(rising, [{ at: 10 * MIN, value: 2.0 }, { at: 5 * MIN, value: 3.0 }, { at: 6 * MIN, value: 3.2 }]);
  t.same(alarms, [], 'the 2.0 "from the future" does not make a 1 m rise');
  t.same(state.w, [[T0 + 5 * MIN, 3.0], [T0 + 6 * MIN, 3.2]]);
});

t.test('restart: the window survives a JSON round trip', async (t) => {
  const events = series(0, 9 * MIN, 30 * SEC, (ms) => 3.0 + 0.05 * (ms / MIN));
  const whole = drive(rising, events).alarms;
  const first = drive(rising, events.slice(0, 8));
  const second = drive(rising, events.slice(8), { state: viaJson(first.state) });
  t.same([...first.alarms, ...second.alarms], whole);
  t.equal(whole.length, 1);
});

t.test('per-device overrides: amount and window; never the direction', async (t) => {
  const set = parseRuleFile(`rules:\n${RISING}`, 'r.yaml');
  const device = { ...gauge, overrides: { 'wl-rising': { rise: 0.1, within: '2m', clearRise: 0.05 } } };
  validateOverrides(set, device);
  t.same(brief(drive(set.rules[0]!, [{ at: 0, value: 3.0 }, { at: MIN, value: 3.15 }], { device }).alarms), ['raise@60s major 0.15']);
  t.same(drive(set.rules[0]!, [{ at: 0, value: 3.0 }, { at: MIN, value: 3.15 }]).alarms, [], 'other gauges keep 0.3');
  const bad = [
    [{ fall: 0.2 }, '/overrides/wl-rising/fall', /watches a rise; override "rise" and "clearRise", not "fall"/],
    [{ clearRise: 0.5 }, '/overrides/wl-rising/clearRise', /clearRise \(0\.5\) must not be more than rise \(0\.3\)/],
    [{ rise: 0.05 }, '/overrides/wl-rising/rise', /clearRise \(0\.1\) must not be more than rise \(0\.05\); the rule's clearRise applies unless this device overrides it too/],
    [{ within: '0s' }, '/overrides/wl-rising/within', /longer than 0/],
    [{ rise: -1 }, '/overrides/wl-rising/rise', /must be > 0/],
  ] as const;
  for (const [o, path, message] of bad) {
    const e = gsErrorOf(() => validateOverrides(set, { ...gauge, overrides: { 'wl-rising': o } }));
    t.equal(e?.details[0]?.path, path, JSON.stringify(o));
    t.match(e?.details[0]?.message, message, JSON.stringify(o));
  }
});

t.test('rate rules and time: nothing is due, a tick changes nothing', async (t) => {
  const s = drive(rising, [{ at: 0, value: 3.0 }, { at: MIN, value: 3.5 }]).state;
  t.equal(rising.nextDue(s, gauge), undefined);
  const r = rising.tick(s, gauge, T0 + 60 * MIN);
  t.equal(r.state, s);
  t.same(r.alarms, []);
});
