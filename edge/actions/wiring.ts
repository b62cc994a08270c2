// What the agent adds for rule actions and evidence, in one place so the agent only calls it: the
// shared Snapshotter, the durable evidence queue and its uploader, the action runner, and the local
// API. start() starts the uploader and the API; stop() stops them all (snapshots in flight cancelled,
// writes under way finished).
import type Database from 'better-sqlite3';
import type { Clock } from '../../contracts/clock.js';
import type { ActionIntent } from '../../rules/actions.js';
import { Snapshotter } from '../cameras/snapshot.js';
import type { EdgeConfig } from '../config.js';
import { CameraSnapshots, type ConfiguredDevice } from '../evidence/cameras.js';
import { EvidenceQueue } from '../evidence/queue.js';
import { EvidenceUploader } from '../evidence/uploader.js';
import { LocalApi, type LocalDevice } from '../local-api/server.js';
import type { Logger } from '../log.js';
import type { Random, Scheduler } from '../scheduler.js';
import type { TelemetryStore } from '../telemetry/store.js';
import { ActionRunner, type ActionDevice } from './runner.js';

export interface AlarmActionsOptions {
  config: EdgeConfig;
  db: Database.Database;
  clock: Clock;
  scheduler: Scheduler;
  random: Random;
  logger: Logger;
  fetch?: typeof fetch;
  telemetry: TelemetryStore;
  /** The device at work, by id (session, profile, config). */
  device(id: string): ActionDevice | undefined;
  /** Every device at work. */
  devices(): Iterable<ConfiguredDevice>;
  /** Device health as the local API shows it. */
  health(): LocalDevice[];
}

export class AlarmActions {
  readonly snapshotter: Snapshotter;
  readonly cameras: CameraSnapshots;
  readonly evidence: EvidenceQueue;
  readonly uploader: EvidenceUploader;
  readonly runner: ActionRunner;
  private readonly api?: LocalApi;

  constructor(o: AlarmActionsOptions) {
    const { config, clock, logger } = o;
    this.snapshotter = new Snapshotter({ clock });
    this.cameras = new CameraSnapshots(o.devices, this.snapshotter);
    this.evidence = new EvidenceQueue(o.db, config.edge.dataDir, clock);
    this.uploader = new EvidenceUploader({
      url: config.cloud.url, token: config.cloud.token, queue: this.evidence, scheduler: o.scheduler, random: o.random,
      logger: logger.child({ component: 'evidence' }), ...(o.fetch ? { fetch: o.fetch } : {}),
    });
    this.runner = new ActionRunner({
      device: o.device, cameras: this.cameras, evidence: this.evidence, onEvidence: () => this.uploader.nudge(),
      logger: logger.child({ component: 'actions' }), clock,
    });
    if (config.localApi) {
      this.api = new LocalApi({
        port: config.localApi.port,
        ...(config.localApi.token ? { token: config.localApi.token } : {}),
        deps: { devices: o.health, snapshot: (id, signal) => this.cameras.take(id, { signal }), telemetry: (q) => o.telemetry.query(q), now: () => clock.now() },
      });
    }
  }

  /** The local API's base URL once started (undefined without `localApi` in edge.yaml). */
  get localApiUrl(): string | undefined {
    return this.api?.url || undefined;
  }

  async start(): Promise<void> {
    this.uploader.start();
    await this.api?.start();
  }

  /** Carries out what the rules asked for; returns at once. */
  run(intents: readonly ActionIntent[]): void {
    if (intents.length > 0) this.runner.run(intents);
  }

  async stop(): Promise<void> {
    await this.api?.stop().catch(() => undefined);
    await this.runner.stop();
    await this.uploader.stop();
    await this.snapshotter.stop();
  }
}
