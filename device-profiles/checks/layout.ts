// Where points sit on the wire, as cells two points must not share: whole registers or bytes, or single
// bits of a status word (a word its bit fields share with each other, and only with bit fields).
import type { AddProblem } from './index.js';

interface Holder {
  index: number;
  /** Set when the cell belongs to a status word that bit fields share: the word's key. */
  word?: string;
}

export class Cells {
  private readonly held = new Map<string, Holder>();
  private readonly bits = new Map<string, number>();

  constructor(
    private readonly names: readonly string[],
    private readonly add: AddProblem,
  ) {}

  /** Point `index` alone holds these cells; `path` is where a clash is reported. */
  whole(index: number, cells: readonly string[], path: string): void {
    this.claim(index, cells, undefined, path);
  }

  /**
   * Point `index` is bit `bit` of the status word `word`, which spans `cells`. A clash over the word is
   * reported at `wordPath`, a bit taken twice at `bitPath`.
   */
  bit(index: number, word: string, bit: number, cells: readonly string[], wordPath: string, bitPath: string): void {
    if (!this.claim(index, cells, word, wordPath)) return;
    const key = `bit ${bit} of ${word}`;
    const prior = this.bits.get(key);
    if (prior !== undefined) this.report(index, prior, key, bitPath);
    else this.bits.set(key, index);
  }

  /** Claims every cell; reports each other point met once, at its first shared cell. False on a clash. */
  private claim(index: number, cells: readonly string[], word: string | undefined, path: string): boolean {
    const met = new Set<number>();
    for (const cell of cells) {
      const prior = this.held.get(cell);
      if (!prior) {
        this.held.set(cell, word === undefined ? { index } : { index, word });
        continue;
      }
      // Bit fields of the same word share its cells.
      if (word !== undefined && prior.word === word) continue;
      if (met.has(prior.index)) continue;
      met.add(prior.index);
      this.report(index, prior.index, prior.word !== undefined && word === undefined ? `${cell}, a word of status bits` : cell, path);
    }
    return met.size === 0;
  }

  private report(index: number, prior: number, where: string, path: string): void {
    this.add(path, `overlaps point "${this.names[prior]}" (/points/${prior}) at ${where}`);
  }
}
