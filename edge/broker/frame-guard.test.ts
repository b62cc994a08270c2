import t from 'tap';
import { FrameGuard } from './frame-guard.js';

/** A QoS 0 PUBLISH as on the wire: header, variable-length remaining length, topic, payload. */
function publish(bytes: number): Buffer {
  const topic = Buffer.from('devices/a/t');
  const body = Buffer.concat([Buffer.from([0, topic.length]), topic, Buffer.alloc(bytes)]);
  const len: number[] = [];
  let n = body.length;
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    len.push(b);
  } while (n > 0);
  return Buffer.concat([Buffer.from([0x30, ...len]), body]);
}
const PINGREQ = Buffer.from([0xc0, 0x00]);

function feed(limit: number, stream: Buffer, chunk: number): number[] {
  const seen: number[] = [];
  const g = new FrameGuard(limit, (n) => seen.push(n));
  for (let i = 0; i < stream.length; i += chunk) g.push(stream.subarray(i, i + chunk));
  return seen;
}

t.test('packets within the limit pass, whatever the chunking', async (t) => {
  const stream = Buffer.concat([publish(10), PINGREQ, publish(200), publish(0)]);
  for (const chunk of [1, 2, 3, 7, 1000]) t.same(feed(300, stream, chunk), [], `chunks of ${chunk}`);
});

t.test('the first packet over the limit trips, once, as soon as its length is read', async (t) => {
  const stream = Buffer.concat([publish(10), publish(5000), publish(6000)]);
  for (const chunk of [1, 5, 4096]) {
    const seen = feed(1000, stream, chunk);
    t.equal(seen.length, 1, `chunks of ${chunk}`);
    t.ok(seen[0]! > 1000);
  }
  t.same(feed(1000, Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff]), 1).length, 1, 'a length of more than four bytes is refused');
});
