import type { Clock } from '../../contracts/clock.js';
import type { FwDb } from './tables.js';

/** What the firmware services use. `random` (in [0, 1)) picks canaries and jitter; tests replace it. */
export interface FirmwareDeps {
  db: FwDb;
  clock: Clock;
  newId: () => string;
  random: () => number;
}
