// What a session needs from the broker side, embedded or external: the device's messages, whether it
// is there, and a way to send it commands.

export interface ChannelEvents {
  /** A message under the device's topic root (absolute topic). */
  message(topic: string, payload: Buffer): void;
  /** The device connected (embedded broker only: an external broker does not say). */
  online(): void;
  /** The device, or the edge's link to its broker, went away: `last_will`, `disconnected`, `broker_disconnected`. */
  offline(reason: string): void;
}

export interface DeviceChannel {
  /** True/false when the broker knows whether the device is connected; undefined when it cannot know. */
  connected(): boolean | undefined;
  publish(topic: string, payload: Buffer, qos: 0 | 1 | 2): Promise<void>;
  /** Stops the events and releases the broker or link (the last channel closes it). */
  close(): Promise<void>;
  /** The shared link to an external broker, for bus health (undefined for the embedded broker). */
  readonly busId?: string;
}

export type OpenChannel = (events: ChannelEvents) => DeviceChannel;
