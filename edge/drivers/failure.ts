import { GsError, type ErrorCode } from '../../contracts/errors.js';

/**
 * A failed device transaction as every driver reports it: the GsError, plus what the reading carries —
 * a stable snake_case reason and whether the device (or its link) did not answer at all, which is what
 * counts as a missed poll. Each protocol subclasses it so its own failures stay recognisable.
 */
export class DeviceFailure extends GsError {
  constructor(
    code: ErrorCode,
    readonly reason: string,
    /** The device, or the link to it, did not answer at all. */
    readonly unreachable: boolean,
    message?: string,
    options?: { cause?: unknown },
  ) {
    super(code, message ?? reason, [], options);
  }
}
