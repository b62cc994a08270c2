// Camera events in gridsense's terms: an ONVIF NotificationMessage (topic + Data items) mapped to a
// kind — motion, tamper, video_loss — through the per-vendor topic map in topics.yaml (data, not code).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { attr, child, children, descendants, text, type XmlElement } from './xml.js';

export const EVENT_KINDS = ['motion', 'tamper', 'video_loss'] as const;
export type CameraEventKind = (typeof EVENT_KINDS)[number];

export interface TopicRule {
  topic: string;
  /** The Data SimpleItem holding the state. */
  item: string;
  kind: CameraEventKind;
  /** The item is true when all is well (e.g. a "signal OK" flag). */
  invert?: boolean;
}

/** One ONVIF notification as it came off the wire. */
export interface Notification {
  topic: string;
  /** UtcTime of the message, ms (camera clock). */
  utcTime?: number;
  /** Initialized: the state when the subscription began; Changed: a change; Deleted: the property went away. */
  operation?: 'Initialized' | 'Changed' | 'Deleted';
  source: Record<string, string>;
  data: Record<string, string>;
}

export interface CameraEvent {
  kind: CameraEventKind;
  active: boolean;
  /** True for the state reported when a subscription began (after a reboot too), not a change. */
  initial: boolean;
  topic: string;
  /** Camera time of the event, ms; absent when the camera sent none. */
  cameraTime?: number;
  source: Record<string, string>;
}

const FILE = fileURLToPath(new URL('./topics.yaml', import.meta.url));
let cache: Record<string, TopicRule[]> | undefined;

/** Every vendor's rules as topics.yaml has them (read once); `file` for tests. */
export function loadTopicMaps(file = FILE): Record<string, TopicRule[]> {
  if (file === FILE && cache) return cache;
  const raw = parse(readFileSync(file, 'utf8')) as unknown;
  if (!raw || typeof raw !== 'object') throw new Error(`${file}: expected a map of vendor → rules`);
  const out: Record<string, TopicRule[]> = {};
  for (const [vendor, rules] of Object.entries(raw as Record<string, unknown>)) {
    if (!Array.isArray(rules)) throw new Error(`${file}: ${vendor} must be a list`);
    out[vendor] = rules.map((r: unknown, i) => {
      const rule = r as Partial<TopicRule>;
      if (typeof rule.topic !== 'string' || typeof rule.item !== 'string' || !EVENT_KINDS.includes(rule.kind as CameraEventKind)) {
        throw new Error(`${file}: ${vendor}[${i}] needs topic, item and a kind of ${EVENT_KINDS.join(', ')}`);
      }
      return { topic: rule.topic, item: rule.item, kind: rule.kind as CameraEventKind, ...(rule.invert ? { invert: true } : {}) };
    });
  }
  if (!out.onvif) throw new Error(`${file}: the standard "onvif" list is missing`);
  if (file === FILE) cache = out;
  return out;
}

/** A vendor's rules followed by the standard ones. An unknown vendor gets the standard ones. */
export function topicRules(vendor = 'onvif', maps = loadTopicMaps()): TopicRule[] {
  const own = vendor === 'onvif' ? [] : (maps[vendor] ?? []);
  return [...own, ...maps.onvif!];
}

/** `tns1:RuleEngine/tnshik:Foo/Bar` → `RuleEngine/Foo/Bar`: prefixes are the sender's choice. */
export function normaliseTopic(topic: string): string {
  return topic
    .trim()
    .split('/')
    .map((seg) => seg.slice(seg.indexOf(':') + 1))
    .join('/');
}

const TRUE = new Set(['true', '1', 'on', 'active', 'yes']);

/** The event a notification means, or undefined when no rule knows its topic. */
export function toCameraEvent(n: Notification, rules: readonly TopicRule[]): CameraEvent | undefined {
  const topic = normaliseTopic(n.topic);
  for (const r of rules) {
    if (normaliseTopic(r.topic) !== topic) continue;
    const v = n.data[r.item];
    if (v === undefined) continue;
    const on = TRUE.has(v.trim().toLowerCase());
    return {
      kind: r.kind,
      active: r.invert ? !on : on,
      initial: n.operation === 'Initialized',
      topic: n.topic,
      ...(n.utcTime !== undefined ? { cameraTime: n.utcTime } : {}),
      source: n.source,
    };
  }
  return undefined;
}

/** The NotificationMessages of a PullMessagesResponse (or any element holding them). */
export function notificationsIn(el: XmlElement): Notification[] {
  return descendants(el, 'NotificationMessage').map((nm) => {
    const msg = child(child(nm, 'Message'), 'Message');
    const items = (parent: XmlElement | undefined) =>
      Object.fromEntries(children(parent, 'SimpleItem').map((s) => [attr(s, 'Name') ?? '', attr(s, 'Value') ?? '']));
    const utc = attr(msg, 'UtcTime');
    const op = attr(msg, 'PropertyOperation');
    const n: Notification = { topic: text(child(nm, 'Topic')) ?? '', source: items(child(msg, 'Source')), data: items(child(msg, 'Data')) };
    if (utc && Number.isFinite(Date.parse(utc))) n.utcTime = Date.parse(utc);
    if (op === 'Initialized' || op === 'Changed' || op === 'Deleted') n.operation = op;
    return n;
  });
}
