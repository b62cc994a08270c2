// YAML with positions, shared by every file a technician edits (edge.yaml, profiles, rule files): a
// problem says "line 12" as well as "/devices/0/profile".
import { LineCounter, parseDocument, isNode, type YAMLParseError, type Document } from 'yaml';
import type { ErrorDetail } from './errors.js';

export interface ParsedYaml {
  value: unknown;
  /** 1-based line of the node a JSON pointer names, or of its nearest ancestor that exists. */
  lineOf(pointer: string): number | undefined;
}

export class YamlSyntaxError extends Error {
  constructor(
    /** "line L, column C: what" */
    readonly detail: string,
    readonly line?: number,
    readonly col?: number,
  ) {
    super(detail);
    this.name = 'YamlSyntaxError';
  }
}

/** Parses one YAML document; throws YamlSyntaxError on the first error. */
export function parseYamlWithLines(text: string): ParsedYaml {
  const lines = new LineCounter();
  // uniqueKeys makes a repeated key an error: the second `hold:` silently winning is a trap.
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: true, uniqueKeys: true });
  const first = doc.errors[0];
  if (first) throw toSyntaxError(first);
  return { value: doc.toJS({ maxAliasCount: 100 }), lineOf: (pointer) => lineOf(doc, lines, pointer) };
}

/** The detail with " (line N)" appended when the pointer names a node of the document. */
export function withLine(d: ErrorDetail, parsed: ParsedYaml): ErrorDetail {
  const line = parsed.lineOf(d.path);
  return line === undefined ? d : { ...d, message: `${d.message} (line ${line})` };
}

function toSyntaxError(err: YAMLParseError): YamlSyntaxError {
  const what = (err.message.split('\n')[0] ?? err.message).replace(/ at line \d+, column \d+:?$/, '');
  const pos = err.linePos?.[0];
  return pos ? new YamlSyntaxError(`line ${pos.line}, column ${pos.col}: ${what}`, pos.line, pos.col) : new YamlSyntaxError(what);
}

function lineOf(doc: Document, lines: LineCounter, pointer: string): number | undefined {
  const parts = pointer === '' ? [] : pointer.slice(1).split('/').map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  for (let n = parts.length; n >= 0; n--) {
    const path = parts.slice(0, n).map((p) => (/^\d+$/.test(p) ? Number(p) : p));
    const node = n === 0 ? doc.contents : doc.getIn(path, true);
    if (isNode(node) && node.range) return lines.linePos(node.range[0]).line;
  }
  return undefined;
}
