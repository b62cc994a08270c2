// A small, strict, namespace-aware XML reader for SOAP messages: elements, attributes, text, CDATA,
// comments, processing instructions and the five entities plus character references. A DOCTYPE is
// refused (no entity expansion, no external entities), as is anything not well-formed — a camera that
// answers garbage gets a clear error, not a half-read object.
//
// Elements carry their namespace URI and local name, so callers match `{ns}Local` whatever prefix the
// peer chose (cameras use tt:, ns2:, or a default namespace for the same thing).

export interface XmlAttr {
  name: string;
  local: string;
  ns: string;
  value: string;
}

export interface XmlElement {
  /** As written, with its prefix. */
  name: string;
  local: string;
  /** Namespace URI ('' for none). */
  ns: string;
  attrs: XmlAttr[];
  children: XmlElement[];
  /** The element's own text (CDATA included), not its descendants'. */
  text: string;
  /** Prefix → URI in scope here (for QName values such as a fault subcode `ter:NotAuthorized`). */
  scope: ReadonlyMap<string, string>;
}

export class XmlError extends Error {
  constructor(message: string, readonly offset: number) {
    super(`${message} (at character ${offset})`);
    this.name = 'XmlError';
  }
}

const XML_NS = 'http://www.w3.org/XML/1998/namespace';
const NAME = /[A-Za-z_:][\w.:-]*/y;

export function parseXml(src: string, maxDepth = 64): XmlElement {
  let i = 0;
  const fail = (msg: string): never => {
    throw new XmlError(msg, i);
  };
  const skipWs = () => {
    while (i < src.length && /\s/.test(src[i]!)) i++;
  };
  const startsWith = (s: string) => src.startsWith(s, i);

  const skipMisc = () => {
    for (;;) {
      skipWs();
      if (startsWith('<?')) {
        const end = src.indexOf('?>', i);
        if (end < 0) fail('unterminated processing instruction');
        i = end + 2;
      } else if (startsWith('<!--')) {
        const end = src.indexOf('-->', i);
        if (end < 0) fail('unterminated comment');
        i = end + 3;
      } else if (startsWith('<!DOCTYPE') || startsWith('<!doctype')) {
        fail('DOCTYPE is not allowed');
      } else {
        return;
      }
    }
  };

  const readName = (): string => {
    NAME.lastIndex = i;
    const m = NAME.exec(src);
    if (!m) fail('expected a name');
    i += m![0].length;
    return m![0];
  };

  const parseElement = (parentScope: ReadonlyMap<string, string>, depth: number): XmlElement => {
    if (depth > maxDepth) fail('elements nested too deep');
    if (src[i] !== '<') fail('expected <');
    i++;
    const name = readName();
    const raw: Array<{ name: string; value: string }> = [];
    for (;;) {
      const before = i;
      skipWs();
      if (startsWith('/>') || src[i] === '>') break;
      if (i === before) fail('expected whitespace before an attribute');
      const an = readName();
      skipWs();
      if (src[i] !== '=') fail(`attribute ${an} has no value`);
      i++;
      skipWs();
      const q = src[i];
      if (q !== '"' && q !== "'") fail('attribute value must be quoted');
      const end = src.indexOf(q!, i + 1);
      if (end < 0) fail('unterminated attribute value');
      const value = src.slice(i + 1, end);
      if (value.includes('<')) fail('< in an attribute value');
      raw.push({ name: an, value: decodeEntities(value, i) });
      i = end + 1;
      if (raw.filter((a) => a.name === an).length > 1) fail(`duplicate attribute ${an}`);
    }
    let scope = parentScope;
    for (const a of raw) {
      if (a.name === 'xmlns' || a.name.startsWith('xmlns:')) {
        if (scope === parentScope) scope = new Map(parentScope);
        (scope as Map<string, string>).set(a.name === 'xmlns' ? '' : a.name.slice(6), a.value);
      }
    }
    const resolve = (qname: string, isAttr: boolean): { local: string; ns: string } => {
      const c = qname.indexOf(':');
      if (c < 0) return { local: qname, ns: isAttr ? '' : (scope.get('') ?? '') };
      const prefix = qname.slice(0, c);
      if (prefix === 'xml') return { local: qname.slice(c + 1), ns: XML_NS };
      const ns = scope.get(prefix);
      if (ns === undefined) fail(`undeclared namespace prefix ${prefix}`);
      return { local: qname.slice(c + 1), ns: ns! };
    };
    const { local, ns } = resolve(name, false);
    const attrs = raw
      .filter((a) => a.name !== 'xmlns' && !a.name.startsWith('xmlns:'))
      .map((a) => ({ name: a.name, value: a.value, ...resolve(a.name, true) }));
    const el: XmlElement = { name, local, ns, attrs, children: [], text: '', scope };
    if (startsWith('/>')) {
      i += 2;
      return el;
    }
    i++; // '>'
    for (;;) {
      if (i >= src.length) fail(`unterminated element ${name}`);
      if (startsWith('</')) {
        i += 2;
        const close = readName();
        if (close !== name) fail(`</${close}> closes <${name}>`);
        skipWs();
        if (src[i] !== '>') fail('expected >');
        i++;
        return el;
      }
      if (startsWith('<!--')) {
        const end = src.indexOf('-->', i);
        if (end < 0) fail('unterminated comment');
        i = end + 3;
      } else if (startsWith('<![CDATA[')) {
        const end = src.indexOf(']]>', i);
        if (end < 0) fail('unterminated CDATA');
        el.text += src.slice(i + 9, end);
        i = end + 3;
      } else if (startsWith('<?')) {
        const end = src.indexOf('?>', i);
        if (end < 0) fail('unterminated processing instruction');
        i = end + 2;
      } else if (src[i] === '<') {
        el.children.push(parseElement(scope, depth + 1));
      } else {
        const end = src.indexOf('<', i);
        const chunk = src.slice(i, end < 0 ? src.length : end);
        el.text += decodeEntities(chunk, i);
        i += chunk.length;
      }
    }
  };

  skipMisc();
  if (i >= src.length) fail('no root element');
  const root = parseElement(new Map(), 0);
  skipMisc();
  if (i < src.length) fail('content after the root element');
  return root;

  function decodeEntities(s: string, at: number): string {
    return s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-z]+);|&/g, (m, ref: string | undefined) => {
      if (!ref) throw new XmlError('bare & (not an entity)', at);
      if (ref[0] === '#') {
        const code = ref[1] === 'x' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
        if (!Number.isFinite(code) || code > 0x10ffff) throw new XmlError(`bad character reference ${m}`, at);
        return String.fromCodePoint(code);
      }
      const named: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };
      const v = named[ref];
      if (v === undefined) throw new XmlError(`unknown entity ${m}`, at);
      return v;
    });
  }
}

/** Escapes text for element content and attribute values. */
export function esc(s: string | number | boolean): string {
  return String(s).replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);
}

/** First child with this local name (and namespace, when given). */
export function child(el: XmlElement | undefined, local: string, ns?: string): XmlElement | undefined {
  return el?.children.find((c) => c.local === local && (ns === undefined || c.ns === ns));
}

export function children(el: XmlElement | undefined, local: string, ns?: string): XmlElement[] {
  return el ? el.children.filter((c) => c.local === local && (ns === undefined || c.ns === ns)) : [];
}

/** Follows local names down from `el`: path(env, 'Body', 'Fault', 'Code'). */
export function path(el: XmlElement | undefined, ...locals: string[]): XmlElement | undefined {
  let cur = el;
  for (const l of locals) cur = child(cur, l);
  return cur;
}

export function attr(el: XmlElement | undefined, local: string): string | undefined {
  return el?.attrs.find((a) => a.local === local)?.value;
}

/** Trimmed text of `el`, or undefined when there is no element. */
export function text(el: XmlElement | undefined): string | undefined {
  return el === undefined ? undefined : el.text.trim();
}

/** Every descendant (depth first) with this local name. */
export function descendants(el: XmlElement, local: string): XmlElement[] {
  const out: XmlElement[] = [];
  const walk = (e: XmlElement) => {
    for (const c of e.children) {
      if (c.local === local) out.push(c);
      walk(c);
    }
  };
  walk(el);
  return out;
}
