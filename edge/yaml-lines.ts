// YAML with positions, so a config problem says "line 12" as well as "/devices/0/profile".
import { LineCounter, parseDocument, isNode, YAMLParseError, type Document } from 'yaml';

export interface LinedYaml {
  value: unknown;
  /** 1-based line of the node a JSON pointer names, or of its nearest existing ancestor. */
  lineOf(pointer: string): number | undefined;
}

export class YamlError extends Error {
  constructor(
    readonly detail: string,
    readonly line?: number,
    readonly col?: number,
  ) {
    super(detail);
  }
}

export function parseYamlWithLines(text: string): LinedYaml {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: true, uniqueKeys: true });
  const first = doc.errors[0];
  if (first) throw toYamlError(first);
  return { value: doc.toJS({ maxAliasCount: 100 }), lineOf: (pointer) => lineOf(doc, lines, pointer) };
}

function toYamlError(err: YAMLParseError): YamlError {
  const what = (err.message.split('\n')[0] ?? err.message).replace(/ at line \d+, column \d+:?$/, '');
  const pos = err.linePos?.[0];
  return pos ? new YamlError(`line ${pos.line}, column ${pos.col}: ${what}`, pos.line, pos.col) : new YamlError(what);
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
