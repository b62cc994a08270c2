// aedes parses a whole packet before any hook sees it, so a client announcing a 256 MB PUBLISH would be
// buffered in full. This follows the MQTT fixed headers on the raw bytes and reports the first packet
// longer than the limit, so the connection is cut after at most one socket read past it.

type State = 'header' | 'length' | 'body';

export class FrameGuard {
  private state: State = 'header';
  private length = 0;
  private multiplier = 1;
  private lengthBytes = 0;
  private remaining = 0;
  private tripped = false;

  constructor(
    /** Largest remaining length (everything after the fixed header) a packet may announce. */
    private readonly maxRemaining: number,
    private readonly onTooLarge: (announced: number) => void,
  ) {}

  /** Feeds the next bytes read from the connection. */
  push(chunk: Buffer): void {
    let i = 0;
    while (i < chunk.length && !this.tripped) {
      switch (this.state) {
        case 'header':
          i++;
          this.state = 'length';
          this.length = 0;
          this.multiplier = 1;
          this.lengthBytes = 0;
          break;
        case 'length': {
          const b = chunk[i++]!;
          this.length += (b & 0x7f) * this.multiplier;
          this.multiplier *= 128;
          this.lengthBytes++;
          if (this.length > this.maxRemaining || (this.lengthBytes === 4 && (b & 0x80) !== 0)) {
            this.tripped = true;
            this.onTooLarge(this.length);
            return;
          }
          if ((b & 0x80) === 0) {
            this.remaining = this.length;
            this.state = this.remaining === 0 ? 'header' : 'body';
          }
          break;
        }
        case 'body': {
          const take = Math.min(this.remaining, chunk.length - i);
          i += take;
          this.remaining -= take;
          if (this.remaining === 0) this.state = 'header';
          break;
        }
      }
    }
  }
}
