import t from 'tap';
import { fullJitter } from './backoff.js';

t.test('full jitter: uniform in [0, min(cap, base·2^attempt)]', async (t) => {
  const p = { baseMs: 500, capMs: 60_000 };
  t.same([0, 1, 2, 3, 6, 7, 8, 50].map((n) => fullJitter(n, p, () => 0.999999)), [499, 999, 1999, 3999, 31999, 59999, 59999, 59999]);
  t.equal(fullJitter(3, p, () => 0), 0, 'can retry at once');
  t.equal(fullJitter(2, p, () => 0.5), 1000);
});
