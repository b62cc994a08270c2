// What edge and cloud both check before calling bytes a JPEG: the SOI marker (FF D8) followed by the
// start of another marker (FF), and the EOI marker (FF D9) at the end. A cut-off transfer or an HTML
// error page served as "image/jpeg" fails here instead of being stored as evidence.
import { createHash } from 'node:crypto';

export function isJpeg(bytes: Uint8Array): boolean {
  const n = bytes.length;
  if (n < 4) return false;
  if (bytes[0] !== 0xff || bytes[1] !== 0xd8 || bytes[2] !== 0xff) return false;
  // Some encoders pad after EOI; look for it in the last few bytes.
  for (let i = n - 2; i >= Math.max(2, n - 32); i--) if (bytes[i] === 0xff && bytes[i + 1] === 0xd9) return true;
  return false;
}

/** Lower-case hex SHA-256: the address of a piece of evidence. */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}
