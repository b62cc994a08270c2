import type { ProfilePoint } from '../../contracts/profile.js';
import type { AddProblem } from './index.js';

/**
 * An OPC UA node id in its string form: `ns=<index>;` (optional, default namespace 0) then
 * `s=<string>`, `i=<number>`, `g=<guid>` or `b=<base64>`. `{prefix}` (the device connection's
 * `nodePrefix`) may stand anywhere in a string id, e.g. `ns=2;s={prefix}.Level`.
 */
const FORMS: Array<[string, RegExp, string]> = [
  ['s', /^.+$/s, 'a non-empty string'],
  ['i', /^\d{1,10}$/, 'a number (0–4294967295)'],
  ['g', /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/, 'a GUID (8-4-4-4-12 hex digits)'],
  ['b', /^[A-Za-z0-9+/]+={0,2}$/, 'base64'],
];

/** Problems with a node id, or [] when it is well formed. */
export function nodeIdProblems(nodeId: string): string[] {
  const m = /^(?:ns=(\d+);)?([sigb])=(.*)$/s.exec(nodeId);
  if (!m) return [`"${nodeId}" is not an OPC UA node id: write ns=<n>;s=<name> (or i=, g=, b=), e.g. "ns=2;s={prefix}.Level"`];
  const out: string[] = [];
  const [, ns, kind, id] = m as unknown as [string, string | undefined, string, string];
  if (ns !== undefined && Number(ns) > 65535) out.push(`namespace index ${ns} is above 65535`);
  if (kind !== 's' && id.includes('{prefix}')) out.push('{prefix} can only stand in a string id (s=)');
  const form = FORMS.find(([k]) => k === kind)!;
  if (!form[1].test(id)) out.push(`"${kind}=" needs ${form[2]}, got "${id}"`);
  if (kind === 'i' && Number(id) > 0xffffffff) out.push(`numeric id ${id} is above 4294967295`);
  const braces = id.replaceAll('{prefix}', '');
  if (kind === 's' && /[{}]/.test(braces)) out.push('the only placeholder is {prefix}');
  return out;
}

/** An OPC UA point has a well-formed node id. */
export function checkOpcuaPoint(p: ProfilePoint, at: string, add: AddProblem): void {
  const o = p.opcua;
  if (!o) { add(at, 'an OPC UA profile needs an "opcua" block on every point'); return; }
  for (const message of nodeIdProblems(o.nodeId)) add(`${at}/opcua/nodeId`, message);
}

/**
 * One node id in one form: `ns=0;` is the default namespace, numeric ids are numbers and GUIDs are
 * case-insensitive, so `i=85`, `ns=0;i=085` are one node. `{prefix}` stays as written.
 */
function canonicalNodeId(nodeId: string): string {
  const m = /^(?:ns=(\d+);)?([sigb])=(.*)$/s.exec(nodeId);
  if (!m) return nodeId;
  const [, ns, kind, id] = m as unknown as [string, string | undefined, string, string];
  const value = kind === 'i' && /^\d+$/.test(id) ? String(Number(id)) : kind === 'g' ? id.toLowerCase() : id;
  return `ns=${Number(ns ?? 0)};${kind}=${value}`;
}

/** No two points read the same node. */
export function checkOpcuaLayout(points: readonly ProfilePoint[], add: AddProblem): void {
  const seen = new Map<string, number>();
  points.forEach((p, i) => {
    if (!p.opcua) return;
    const key = canonicalNodeId(p.opcua.nodeId);
    const prior = seen.get(key);
    if (prior === undefined) seen.set(key, i);
    else add(`/points/${i}/opcua/nodeId`, `point "${points[prior]!.name}" (/points/${prior}) already reads node ${p.opcua.nodeId}`);
  });
}
