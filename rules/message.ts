// Alarm message templates: "Water level {value} {unit} above warning line {threshold} {unit}".
import type { ReadingValue } from '../contracts/reading.js';

export const PLACEHOLDERS = ['value', 'unit', 'threshold', 'device', 'point', 'site', 'severity', 'change', 'count', 'window'] as const;
export type Placeholder = (typeof PLACEHOLDERS)[number];
export type MessageVars = Record<Placeholder, string>;

/** Every rule's messages may use these; each condition kind adds its own (see conditions/*.ts). */
export const COMMON_PLACEHOLDERS: readonly Placeholder[] = ['device', 'point', 'site', 'severity'];

/** The envelope's limit; a long device id must not make an alarm unsendable. */
const MAX_MESSAGE = 1024;
const TOKEN = /\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/** Placeholders a template names that are not in `known`, so a typo ({vaule}) fails at load, not in an alarm. */
export function unknownPlaceholders(template: string, known: readonly string[] = PLACEHOLDERS): string[] {
  const set = new Set<string>(known);
  return [...template.matchAll(TOKEN)].map((m) => m[1]!).filter((name) => !set.has(name));
}

/** Placeholders missing from `vars` render as nothing. */
export function renderMessage(template: string, vars: Partial<MessageVars>): string {
  const text = template.replace(TOKEN, (whole, name: string) => ((PLACEHOLDERS as readonly string[]).includes(name) ? (vars[name as Placeholder] ?? '') : whole));
  // An empty {unit} would otherwise leave double spaces ("3.8  above"), or a space before a bracket.
  return text.replace(/ {2,}/g, ' ').replace(/ ([),;])/g, '$1').trim().slice(0, MAX_MESSAGE);
}

/**
 * Numbers as a person writes them: scaling a register (380 × 0.01) leaves float noise
 * (3.8000000000000003) that has no place in a message.
 */
export function formatValue(v: ReadingValue | undefined): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return String(tidy(v));
  return String(v);
}

/** A number rounded to 12 significant digits: 3.3 - 3.0 is 0.3 here, not 0.2999999999999998. */
export function tidy(n: number): number {
  return Number(n.toPrecision(12));
}
