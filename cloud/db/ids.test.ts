import t from 'tap';
import { ManualClock } from '../../contracts/clock.js';
import { createIdFactory } from './ids.js';

t.test('ids sort by creation, within one millisecond and when the clock steps back', async (t) => {
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  const next = createIdFactory(clock);
  const ids: string[] = [];
  for (let i = 0; i < 1000; i++) ids.push(next());
  clock.advance(1);
  ids.push(next());
  clock.advance(-60_000);
  ids.push(next(), next());
  t.ok(ids.every((id) => /^[0-9A-HJKMNP-TV-Z]{26}$/.test(id)), 'ULID alphabet, 26 chars');
  t.same(ids, [...ids].sort(), 'monotonic');
  t.equal(new Set(ids).size, ids.length, 'unique');
  t.equal(ids[0]!.slice(0, 10), '01KDVDNA00', 'time prefix');
});
