// Carries out the action intents of rule transitions (rules/actions.ts), after the alarms that caused
// them are committed: writes go through the device's own session (and so its bus turn, at high
// priority on Modbus), snapshots through the shared Snapshotter into the evidence queue. Nothing here
// blocks or undoes an alarm: every failure is logged with a code (GS_ERR_ACTION_WRITE,
// GS_ERR_ACTION_SNAPSHOT, GS_ERR_ACTION_TARGET) and counted, and the edge goes on.
import type { Clock } from '../../contracts/clock.js';
import { GsError, isGsError } from '../../contracts/errors.js';
import type { DeviceProfile } from '../../contracts/profile.js';
import { MAX_SNAPSHOT_CAMERAS, type ActionIntent } from '../../rules/actions.js';
import { isCameraFailure } from '../cameras/failure.js';
import type { DeviceConfig } from '../config.js';
import type { RawValue, Session } from '../drivers/driver.js';
import type { CameraSnapshots } from '../evidence/cameras.js';
import type { EvidenceQueue } from '../evidence/queue.js';
import type { Logger } from '../log.js';
import { toRaw } from '../pipeline/apply-profile.js';

export interface ActionDevice {
  config: DeviceConfig;
  profile: DeviceProfile;
  session: Session;
}

export interface ActionRunnerOptions {
  /** The device at work now, by id. */
  device(id: string): ActionDevice | undefined;
  cameras: CameraSnapshots;
  evidence: EvidenceQueue;
  /** A picture was queued (wake the uploader). */
  onEvidence(): void;
  logger: Logger;
  clock: Clock;
}

export interface ActionStats {
  writes: number;
  writeFailures: number;
  snapshots: number;
  snapshotFailures: number;
}

export class ActionRunner {
  private readonly inFlight = new Set<Promise<void>>();
  private readonly abort = new AbortController();
  private stopped = false;
  readonly stats: ActionStats = { writes: 0, writeFailures: 0, snapshots: 0, snapshotFailures: 0 };

  constructor(private readonly o: ActionRunnerOptions) {}

  /** Starts every intent; returns at once (the alarm path never waits for a device or a camera). */
  run(intents: readonly ActionIntent[]): void {
    if (this.stopped) return;
    for (const intent of intents) {
      const p = (intent.kind === 'write' ? this.write(intent) : this.snapshot(intent)).catch((err: unknown) => {
        this.o.logger.error({ code: 'GS_ERR_INTERNAL', err: String(err), intent }, 'rule action crashed');
      });
      this.inFlight.add(p);
      void p.finally(() => this.inFlight.delete(p));
    }
  }

  /** Resolves once every action started so far has finished (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }

  /** Cancels snapshots in progress and waits for the writes under way. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    await this.idle();
  }

  private async write(i: Extract<ActionIntent, { kind: 'write' }>): Promise<void> {
    const log = { ruleId: i.ruleId, alarmId: i.alarmId, on: i.on, deviceId: i.deviceId, point: i.point };
    const d = this.o.device(i.deviceId);
    const point = d?.profile.points.find((p) => p.name === i.point);
    if (!d || !point) {
      this.stats.writeFailures++;
      this.o.logger.error({ ...log, code: 'GS_ERR_ACTION_TARGET' }, d ? `rule action: device ${i.deviceId} has no point ${i.point}` : `rule action: no device ${i.deviceId} on this edge`);
      return;
    }
    try {
      await d.session.write(point, rawOf(i.value, point));
      this.stats.writes++;
      this.o.logger.info({ ...log, value: i.value }, `rule action: wrote ${i.point} of ${i.deviceId}`);
    } catch (err) {
      this.stats.writeFailures++;
      this.o.logger.error({ ...log, code: 'GS_ERR_ACTION_WRITE', cause: isGsError(err) ? err.code : undefined, err: err instanceof Error ? err.message : String(err) }, `rule action: writing ${i.point} of ${i.deviceId} failed`);
    }
  }

  private async snapshot(i: Extract<ActionIntent, { kind: 'snapshot' }>): Promise<void> {
    const log = { ruleId: i.ruleId, alarmId: i.alarmId, deviceId: i.deviceId };
    const device = this.o.device(i.deviceId)?.config;
    const cameras = i.cameras ?? (device ? this.o.cameras.camerasFor(device, i.withinMetres, MAX_SNAPSHOT_CAMERAS) : []);
    if (cameras.length === 0) {
      this.stats.snapshotFailures++;
      this.o.logger.error({ ...log, code: 'GS_ERR_ACTION_TARGET' }, `rule action: no camera sees ${i.deviceId} (no linked cameras${i.withinMetres !== undefined ? `, none within ${i.withinMetres} m` : ''})`);
      return;
    }
    await Promise.all(
      cameras.map(async (cameraId) => {
        try {
          const snap = await this.o.cameras.take(cameraId, { signal: this.abort.signal });
          const evidence = this.o.evidence.put(i.alarmId, cameraId, snap.jpeg, snap.takenAt);
          this.stats.snapshots++;
          this.o.onEvidence();
          this.o.logger.info({ ...log, cameraId, sha256: evidence.sha256, size: evidence.size, source: snap.source }, `rule action: picture of ${cameraId} queued as evidence`);
        } catch (err) {
          this.stats.snapshotFailures++;
          const reason = isCameraFailure(err) ? err.reason : undefined;
          this.o.logger.error({ ...log, cameraId, code: isGsError(err) && err.code === 'GS_ERR_CAMERA_UNKNOWN' ? 'GS_ERR_ACTION_TARGET' : 'GS_ERR_ACTION_SNAPSHOT', reason, err: err instanceof Error ? err.message : String(err) }, `rule action: no picture from ${cameraId}`);
        }
      }),
    );
  }
}

/** The value in the point's units as the raw value its driver sends (scale and offset undone). */
function rawOf(value: number | boolean | string, point: DeviceProfile['points'][number]): RawValue {
  if (point.type === 'boolean' && typeof value === 'number') return value !== 0;
  if (typeof value === 'number' && (point.scale !== undefined || point.offset !== undefined)) return toRaw(value, point);
  if (point.type === 'number' && typeof value !== 'number') throw new GsError('GS_ERR_DRIVER_VALUE', `point ${point.name} takes a number`);
  return value;
}
