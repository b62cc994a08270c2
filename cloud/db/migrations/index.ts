import type { Migration } from 'kysely';
import * as m0001 from './0001_init.js';
import * as m0002 from './0002_event_lifecycle.js';
import * as m0003 from './0003_event_town.js';
import * as m0004 from './0004_event_feed.js';
import * as m0005 from './0005_webhooks.js';
import * as m0006 from './0006_api_keys_audit.js';
import * as m0007 from './0007_fleet.js';
import * as m0008 from './0008_firmware.js';
import * as m0009 from './0009_grids_v2.js';
import * as m0010 from './0010_evidence.js';
import * as m0011 from './0011_telemetry_summaries.js';

/**
 * Every migration, in order, listed in code rather than found on disk: the same list works under
 * tsx, compiled to dist/, and bundled. Names sort lexically; never rename or edit a released one.
 */
export const MIGRATIONS: Record<string, Migration> = {
  '0001_init': m0001,
  '0002_event_lifecycle': m0002,
  '0003_event_town': m0003,
  '0004_event_feed': m0004,
  '0005_webhooks': m0005,
  '0006_api_keys_audit': m0006,
  '0007_fleet': m0007,
  '0008_firmware': m0008,
  '0009_grids_v2': m0009,
  '0010_evidence': m0010,
  '0011_telemetry_summaries': m0011,
};
