// The one interface every protocol driver implements (DESIGN.md, core abstraction 2). A driver speaks
// its protocol and returns raw values; it never knows units, scale or ranges — that is the profile
// step's job (edge/pipeline/apply-profile.ts), shared by all drivers.
import type { ErrorDetail } from '../../contracts/errors.js';
import type { Protocol } from '../../contracts/profile.js';
import type { ProfilePoint as Point } from '../../contracts/profile.js';
import type { Clock } from '../../contracts/clock.js';
import type { Logger } from '../log.js';
import type { Random, Scheduler } from '../scheduler.js';

/** A device's `connection` block from edge.yaml; `protocol` picks the driver, the rest is the driver's. */
export interface ConnectionConfig {
  protocol: string;
  [key: string]: unknown;
}

/** A value as it came off the wire, before scale/offset. */
export type RawValue = number | boolean | string;

export type RawPointValue =
  | {
      point: string;
      ok: true;
      value: RawValue;
      /**
       * The value is the last one the device gave, not a fresh one: a push device's last message read
       * back after it went quiet, an OPC UA value with status UncertainLastUsableValue. The reading
       * keeps the value with quality `stale`, so rules can tell it from a live one.
       */
      stale?: boolean;
    }
  | {
      point: string;
      ok: false;
      /** snake_case, stable: timeout, connection_refused, modbus_exception_2_illegal_data_address… */
      reason: string;
      /** True when the device did not answer at all (no link, timeout): what counts as a missed poll. */
      unreachable: boolean;
    };

export interface Session {
  /** Reads the points; one result per point, in the order given. Never throws for a device fault. */
  read(points: readonly Point[]): Promise<RawPointValue[]>;
  /** Writes one raw value; throws a GsError when the device refuses or cannot be reached. */
  write(point: Point, value: RawValue): Promise<void>;
  /**
   * For push protocols (MQTT, OPC UA subscriptions); returns the unsubscribe function. When a session
   * has it, the poller subscribes once at start (to the points `subscribes` accepts, else to all of
   * them) and polls only the points left over. A pushed `{ ok: false, unreachable: true }` (last will,
   * lost OPC UA session) marks the device offline at once; any other pushed value is an answer.
   */
  subscribe?(points: readonly Point[], onValue: (value: RawPointValue) => void): () => void;
  /** Optional: which points `subscribe` can deliver; the poller polls the rest through `read`. */
  subscribes?(point: Point): boolean;
  /**
   * Optional: the shared link this session rides on (a Modbus TCP endpoint, an RS-485 line), as a
   * stable id such as `bus:tcp://10.0.0.5:502`. Devices with the same id share health: a dead link
   * raises one bus alarm instead of one device alarm each (edge/health/).
   */
  readonly busId?: string;
  /** Releases this session; the shared link closes when its last session does. */
  close(): Promise<void>;
}

/** What a driver may use; injected so tests drive time and randomness. */
export interface DriverDeps {
  clock: Clock;
  scheduler: Scheduler;
  random: Random;
  logger: Logger;
}

export interface Driver {
  /** The `connection.protocol` it serves: modbus-tcp, modbus-rtu, mqtt… */
  readonly protocol: string;
  /** The profile protocol it reads points of (a profile's `protocol`). */
  readonly profileProtocol: Protocol;
  /** Problems with a connection block; paths are relative to the block ('' is the block itself). */
  validateConnection(conn: ConnectionConfig): ErrorDetail[];
  /** A session to the device; connects lazily, so a device that is down at boot does not stop the edge. */
  open(conn: ConnectionConfig): Session;
}
