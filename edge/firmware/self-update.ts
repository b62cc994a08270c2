// The edge agent updating itself (a job whose target is the edge, image profile `gridsense-edge`): the
// release tarball is downloaded and verified like any image, unpacked into releases/<version>/, and the
// supervisor is asked to switch to it. From there the supervisor owns the outcome — it swaps `current`,
// starts the new agent, waits for it to report healthy and rolls back if it does not — and reports it.
import { EDGE_AGENT_PROFILE, type FirmwareJobReport, type FirmwareJobState } from '../../contracts/firmware.js';
import type { Logger } from '../log.js';
import { isReleaseVersion, unpackRelease } from './release.js';
import { FirmwareJobFailure } from './failure.js';
import type { LocalJob } from './store.js';
import type { SwitchRequest } from './supervised.js';

export interface SelfUpdateContext {
  signal: AbortSignal;
  /** The verified image's path (signature and SHA-256 checked). */
  image: () => Promise<string>;
  move: (state: FirmwareJobState, extra?: Omit<FirmwareJobReport, 'state' | 'at'>) => void;
  /** Marks the job as the supervisor's from now on (not resumed by this agent after a restart). */
  handOver: () => void;
  /** Resolves once the reports queued so far reached the cloud (or after a bounded wait). */
  flush: () => Promise<void>;
}

export interface SelfUpdaterOptions {
  dataDir: string;
  /** The version this agent runs. */
  runningVersion: string;
  /** Asks the supervisor to switch releases (edge/firmware/supervised.ts); absent when not supervised. */
  requestSwitch?: (r: SwitchRequest) => void;
  logger: Logger;
}

export class SelfUpdater {
  constructor(private readonly o: SelfUpdaterOptions) {}

  async run(rec: LocalJob, ctx: SelfUpdateContext): Promise<void> {
    const { manifest } = rec.job.artifact;
    const running = this.o.runningVersion;
    if (!manifest.profiles.includes(EDGE_AGENT_PROFILE)) {
      throw new FirmwareJobFailure('GS_ERR_FIRMWARE_UNSUPPORTED', `image ${manifest.version} is for ${manifest.profiles.join(', ')}, not the edge agent (${EDGE_AGENT_PROFILE})`, running);
    }
    if (!isReleaseVersion(manifest.version)) throw new FirmwareJobFailure('GS_ERR_FIRMWARE_UNSUPPORTED', `"${manifest.version}" is not a usable release version`, running);
    if (manifest.version === running) {
      ctx.move('succeeded', { runningVersion: running });
      return;
    }
    if (!this.o.requestSwitch) {
      throw new FirmwareJobFailure('GS_ERR_FIRMWARE_UNSUPPORTED', 'this edge agent runs without the supervisor (gridsense edge supervise), so it cannot switch releases', running);
    }
    if (rec.state === 'pending') ctx.move('downloading');
    const tarball = await ctx.image();
    ctx.move('verifying');
    let dir: string;
    try {
      dir = await unpackRelease(tarball, this.o.dataDir, manifest.version);
    } catch (err) {
      throw new FirmwareJobFailure('GS_ERR_FIRMWARE_UNSUPPORTED', (err as Error).message, running);
    }
    if (ctx.signal.aborted) return;
    ctx.move('installing');
    ctx.handOver();
    // The switch stops this agent: let the cloud hear `installing` first, so its timeline reads in order.
    await ctx.flush();
    this.o.logger.info({ jobId: rec.jobId, from: running, to: manifest.version, dir }, 'edge release unpacked; asking the supervisor to switch');
    this.o.requestSwitch({ jobId: rec.jobId, version: manifest.version, from: running });
  }
}
