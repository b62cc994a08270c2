// The device's online flag on its status topic: the usual MQTT convention is a retained `online` on
// connect and a last will of `offline`. Through an external broker this is the only way the edge hears
// that a device dropped; the embedded broker sees the disconnect itself.

export type DeviceStatus = 'online' | 'offline';

const WORDS: Record<string, DeviceStatus> = { online: 'online', offline: 'offline', connected: 'online', disconnected: 'offline' };

/** `online` / `offline` (any case), or JSON `{"online": bool}` / `{"status": "offline"}`; undefined for anything else. */
export function parseStatus(payload: Buffer): DeviceStatus | undefined {
  const text = payload.toString('utf8').trim();
  const word = WORDS[text.toLowerCase()];
  if (word) return word;
  if (!text.startsWith('{')) return undefined;
  try {
    const doc = JSON.parse(text) as Record<string, unknown>;
    if (typeof doc.online === 'boolean') return doc.online ? 'online' : 'offline';
    const s = doc.status ?? doc.state;
    return typeof s === 'string' ? WORDS[s.toLowerCase()] : undefined;
  } catch {
    return undefined;
  }
}
