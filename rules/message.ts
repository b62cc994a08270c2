// Alarm message templates: "Water level {value} {unit} above warning line {threshold} {unit}".
import type { ReadingValue } from '../contracts/reading.js';

export const PLACEHOLDERS = ['value', 'unit', 'threshold', 'device', 'point'] as const;
export type Placeholder = (typeof PLACEHOLDERS)[number];
export type MessageVars = Record<Placeholder, string>;

/** The envelope's limit; a long device id must not make an alarm unsendable. */
const MAX_MESSAGE = 1024;
const TOKEN = /\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/** Placeholders a template names that do not exist, so a typo ({vaule}) fails at load, not in an alarm. */
export function unknownPlaceholders(template: string): string[] {
  const known = new Set<string>(PLACEHOLDERS);
  return [...template.matchAll(TOKEN)].map((m) => m[1]!).filter((name) => !known.has(name));
}

export function renderMessage(template: string, vars: MessageVars): string {
  const text = template.replace(TOKEN, (whole, name: string) => (Object.hasOwn(vars, name) ? vars[name as Placeholder] : whole));
  // An empty {unit} would otherwise leave double spaces ("3.8  above").
  return text.replace(/ {2,}/g, ' ').trim().slice(0, MAX_MESSAGE);
}

/**
 * Numbers as a person writes them: scaling a register (380 × 0.01) leaves float noise
 * (3.8000000000000003) that has no place in a message.
 */
export function formatValue(v: ReadingValue | undefined): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return String(Number(v.toPrecision(12)));
  return String(v);
}
