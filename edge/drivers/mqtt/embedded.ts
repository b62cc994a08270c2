// Sessions on the embedded broker. The broker runs while at least one session uses it (a RefPool lease);
// a port that is busy at boot is retried with backoff instead of stopping the edge.
import { fullJitter } from '../../backoff.js';
import { EdgeBroker } from '../../broker/broker.js';
import type { BrokerSettings } from '../../broker/config.js';
import { errFields, type Logger } from '../../log.js';
import type { DriverDeps } from '../driver.js';
import type { Lease } from '../pool.js';
import type { ChannelEvents, DeviceChannel } from './channel.js';
import type { ResolvedEmbedded } from './connection.js';

const RETRY = { baseMs: 1000, capMs: 30_000 };

/** The running broker plus its start retries; `ready` settles once it listens. */
export class BrokerHost {
  readonly broker: EdgeBroker;
  readonly ready: Promise<void>;
  private markReady!: () => void;
  private timer?: unknown;
  private starting?: Promise<void>;
  private stopped = false;
  private attempt = 0;
  private readonly log: Logger;

  constructor(
    settings: BrokerSettings,
    private readonly deps: DriverDeps,
  ) {
    this.log = deps.logger.child({ component: 'mqtt-broker' });
    this.broker = new EdgeBroker({ host: settings.host, port: settings.port, maxPayload: settings.maxPayload, logger: this.log });
    this.ready = new Promise((resolve) => (this.markReady = resolve));
  }

  start(): void {
    if (this.stopped || this.starting) return;
    this.starting = this.broker.start().then(
      () => this.markReady(),
      (err: unknown) => {
        const delayMs = fullJitter(this.attempt++, RETRY, this.deps.random);
        this.log.error({ ...errFields(err), code: 'GS_ERR_MQTT_BROKER', retryInMs: delayMs }, 'embedded MQTT broker did not start');
        if (this.stopped) return;
        this.timer = this.deps.scheduler.setTimeout(() => {
          this.timer = undefined;
          this.starting = undefined;
          this.start();
        }, delayMs);
      },
    );
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) this.deps.scheduler.clearTimeout(this.timer);
    this.timer = undefined;
    await this.starting;
    await this.broker.stop();
  }
}

export function embeddedChannel(lease: Lease<BrokerHost>, c: ResolvedEmbedded, events: ChannelEvents): DeviceChannel {
  const { broker } = lease.value;
  let detach: () => void;
  try {
    detach = broker.attach(
      { deviceId: c.deviceId, username: c.username, secret: c.secret, root: c.root },
      { message: events.message, connected: events.online, offline: events.offline },
    );
  } catch (err) {
    void lease.release();
    throw err;
  }
  return {
    connected: () => broker.isConnected(c.deviceId),
    publish: (topic, payload, qos) => broker.publish(topic, payload, { qos }),
    close: async () => {
      detach();
      await lease.release();
    },
  };
}
