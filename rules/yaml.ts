// YAML with positions: a technician fixing a rule file wants "line 12", not only "/rules/0/threshold".
import { LineCounter, parseDocument, isNode, YAMLParseError, type Document } from 'yaml';

export interface ParsedYaml {
  value: unknown;
  /** 1-based line of the node a JSON pointer names, or of its nearest ancestor that exists. */
  lineOf(pointer: string): number | undefined;
}

export class YamlSyntaxError extends Error {
  constructor(readonly detail: string) {
    super(detail);
    this.name = 'YamlSyntaxError';
  }
}

/** Parses one YAML document; throws YamlSyntaxError ("line L, column C: what") on the first error. */
export function parseYamlWithLines(text: string): ParsedYaml {
  const lines = new LineCounter();
  // uniqueKeys (the default) makes a repeated key an error: the second `hold:` silently winning is a trap.
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: true, uniqueKeys: true });
  const first = doc.errors[0];
  if (first) throw new YamlSyntaxError(describe(first));
  return { value: doc.toJS({ maxAliasCount: 100 }), lineOf: (pointer) => lineOf(doc, lines, pointer) };
}

function describe(err: YAMLParseError): string {
  const what = (err.message.split('\n')[0] ?? err.message).replace(/ at line \d+, column \d+:?$/, '');
  const pos = err.linePos?.[0];
  return pos ? `line ${pos.line}, column ${pos.col}: ${what}` : what;
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
