// Maintenance windows in the edge's local time: inside, before, after, wrapping past midnight, all day.
import t from 'tap';
import { msUntilWindow } from './window.js';

const H = 3_600_000;
const M = 60_000;
// 2026-01-01 00:00 at UTC+8.
const midnight = Date.UTC(2025, 11, 31, 16, 0);
const at = (h: number, m = 0) => midnight + h * H + m * M;

t.test('a day window', async (t) => {
  const w = { start: '02:00', end: '04:30' };
  t.equal(msUntilWindow(at(3), w, 480), 0, 'inside');
  t.equal(msUntilWindow(at(2), w, 480), 0, 'the start is inside');
  t.equal(msUntilWindow(at(4, 30), w, 480), 21.5 * H, 'the end is outside: next day');
  t.equal(msUntilWindow(at(1), w, 480), H, 'before: until it opens');
  t.equal(msUntilWindow(at(10), w, 480), 16 * H, 'after: tomorrow');
});

t.test('a window past midnight, all day, none, and the time zone', async (t) => {
  const night = { start: '22:00', end: '04:00' };
  t.equal(msUntilWindow(at(23), night, 480), 0);
  t.equal(msUntilWindow(at(3, 59), night, 480), 0);
  t.equal(msUntilWindow(at(4), night, 480), 18 * H);
  t.equal(msUntilWindow(at(21, 30), night, 480), 30 * M);
  t.equal(msUntilWindow(at(12), { start: '00:00', end: '00:00' }, 480), 0, 'start == end is all day');
  t.equal(msUntilWindow(at(12), undefined, 480), 0, 'no window');
  t.equal(msUntilWindow(at(3), { start: '02:00', end: '04:00' }, 0), 7 * H, 'the same instant is 19:00 in UTC: 7 h until 02:00 UTC');
});
