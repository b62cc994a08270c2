// Each device owns one topic root (`devices/<deviceId>/`) and nothing else: a compromised or
// misconfigured sensor cannot forge another sensor's readings or read its commands.

/** The default root of a device's topics. */
export function defaultTopicRoot(deviceId: string): string {
  return `devices/${deviceId}/`;
}

/** A root is a plain topic prefix ending in `/`: no wildcards, no empty levels, not `$`-reserved. */
export function isTopicRoot(root: string): boolean {
  return /^[^$/#+][^#+]*\/$/.test(root) && !root.includes('//');
}

/** Publishing is allowed on any topic strictly below the root (wildcards are refused earlier, by the broker). */
export function mayPublish(root: string, topic: string): boolean {
  return topic.length > root.length && topic.startsWith(root);
}

/**
 * Subscribing is allowed to filters below the root. The root part is compared literally, so a `+` or `#`
 * in it (`devices/+/cmd`) is refused; wildcards after the root (`devices/a/cmd/#`) are fine.
 */
export function maySubscribe(root: string, filter: string): boolean {
  return filter.length > root.length && filter.startsWith(root);
}
