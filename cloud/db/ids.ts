import { randomFillSync } from 'node:crypto';
import type { Clock } from '../../contracts/clock.js';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'; // Crockford base32, as ULID uses

/**
 * ULID-style ids (26 chars: 48-bit ms time + 80 random bits), monotonic within one process: ids made
 * in the same millisecond — or after the clock stepped back — increment the previous one, so sorting
 * by id is sorting by creation. Time comes from the injected clock.
 */
export function createIdFactory(clock: Clock): () => string {
  let lastTime = -1;
  const rand = new Array<number>(16).fill(0);
  return () => {
    const now = Math.max(0, Math.floor(clock.now()));
    if (now > lastTime) {
      lastTime = now;
      const bytes = randomFillSync(new Uint8Array(16));
      // The first digit is kept below 16 so 2^80 increments never overflow into the time part.
      for (let i = 0; i < 16; i++) rand[i] = bytes[i]! % (i === 0 ? 16 : 32);
    } else {
      let i = 15;
      while (i >= 0 && rand[i] === 31) rand[i--] = 0;
      if (i < 0) throw new Error('id space of this millisecond exhausted');
      rand[i]!++;
    }
    let time = '';
    let t = lastTime;
    for (let i = 0; i < 10; i++) {
      time = ALPHABET[t % 32]! + time;
      t = Math.floor(t / 32);
    }
    return time + rand.map((d) => ALPHABET[d]).join('');
  };
}
