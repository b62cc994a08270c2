// MQTT devices, on the edge's embedded broker (default) or on an existing broker. The embedded broker
// learns its devices from the sessions opened, starts with the first and stops with the last.
import type { ErrorDetail } from '../../../contracts/errors.js';
import type { EdgeBroker } from '../../broker/broker.js';
import { resolveMqttSection, type BrokerSettings } from '../../broker/config.js';
import type { Logger } from '../../log.js';
import type { ConnectionConfig, Driver, DriverDeps, Session } from '../driver.js';
import { RefPool } from '../pool.js';
import { mqttConnectionErrors, resolveMqtt } from './connection.js';
import { BrokerHost, embeddedChannel } from './embedded.js';
import { ExternalLink, externalChannel, linkKey } from './external.js';
import { MqttSession } from './session.js';

export interface MqttDriverOptions {
  /** The `mqtt.broker` section of edge.yaml, resolved (edge/broker/config.ts); defaults when absent. */
  broker?: BrokerSettings;
}

const EMBEDDED = 'embedded';

export class MqttDriver implements Driver {
  readonly protocol = 'mqtt';
  readonly profileProtocol = 'mqtt' as const;
  private readonly brokerSettings: BrokerSettings;
  private host?: BrokerHost;
  private readonly brokers = new RefPool<BrokerHost>(async (h) => {
    if (this.host === h) this.host = undefined;
    await h.stop();
  });
  private readonly links = new RefPool<ExternalLink>((l) => l.close());
  private readonly log: Logger;

  constructor(
    private readonly deps: DriverDeps,
    opts: MqttDriverOptions = {},
  ) {
    this.brokerSettings = opts.broker ?? resolveMqttSection(undefined).broker;
    this.log = deps.logger.child({ driver: 'mqtt' });
  }

  validateConnection(conn: ConnectionConfig): ErrorDetail[] {
    const details = mqttConnectionErrors(conn);
    const broker = (conn as { broker?: unknown }).broker;
    if (details.length === 0 && (broker === undefined || broker === EMBEDDED) && !this.brokerSettings.enabled) {
      details.push({ path: '/broker', message: 'the embedded broker is disabled (mqtt.broker.enabled: false); give an external broker, e.g. broker: mqtt://127.0.0.1:1883' });
    }
    return details;
  }

  /** Throws GS_ERR_MQTT_ACCOUNT_CONFLICT when another open device has the same username or topic root. */
  open(conn: ConnectionConfig): Session {
    const c = resolveMqtt(conn);
    if (c.broker === 'embedded') {
      const lease = this.brokers.acquire(EMBEDDED, () => (this.host = new BrokerHost(this.brokerSettings, this.deps)));
      lease.value.start();
      return new MqttSession(c, (events) => embeddedChannel(lease, c, events), this.log);
    }
    const lease = this.links.acquire(linkKey(c), () => new ExternalLink(c, this.log));
    return new MqttSession(c, (events) => externalChannel(lease, c, events), this.log);
  }

  /** The embedded broker while a session uses it, once it listens (waits while its port is busy). */
  async embeddedBroker(): Promise<EdgeBroker | undefined> {
    const host = this.host;
    if (!host) return undefined;
    await host.ready;
    return host.broker;
  }

  /** Shared links to external brokers open right now. */
  get openLinks(): number {
    return this.links.size;
  }
}
