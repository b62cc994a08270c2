import { GsError, type ErrorCode } from '../../contracts/errors.js';

/** Why a firmware job failed on this edge: its code becomes the report's reason. */
export class FirmwareJobFailure extends GsError {
  constructor(
    code: ErrorCode,
    message: string,
    /** The version the target runs after the failure, when known (a rolled-back edge, a device that said). */
    readonly runningVersion?: string,
  ) {
    super(code, message);
  }
}
