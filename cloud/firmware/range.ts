// The HTTP Range header of an artifact download (RFC 9110 §14), one range only: enough for an edge to
// resume a download where it broke off. Several ranges are answered with the whole image.

export type ByteRange = { kind: 'full' } | { kind: 'partial'; start: number; end: number } | { kind: 'unsatisfiable' };

/** `end` is inclusive, as in Content-Range. A malformed or unsatisfiable range is `unsatisfiable` (416). */
export function parseRange(header: string | undefined, size: number): ByteRange {
  if (header === undefined || header.trim() === '') return { kind: 'full' };
  const spec = header.trim();
  if (/^bytes=.*,/.test(spec)) return { kind: 'full' };
  const m = /^bytes=(\d*)-(\d*)$/.exec(spec);
  if (!m || (m[1] === '' && m[2] === '')) return { kind: 'unsatisfiable' };
  if (m[1] === '') {
    // The last n bytes.
    const n = Number(m[2]);
    if (!Number.isSafeInteger(n) || n === 0) return { kind: 'unsatisfiable' };
    return { kind: 'partial', start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start >= size || start > Number(m[2] === '' ? end : m[2])) return { kind: 'unsatisfiable' };
  return { kind: 'partial', start, end };
}
