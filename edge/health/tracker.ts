// Layered device health: turns the pollers' online/offline changes into `device_offline` (or the
// device kind's own type: `camera_offline` for a camera) and `bus_offline` alarm transitions. A bus (an
// RS-485 line, a Modbus TCP gateway, an OPC UA server, an NVR) whose devices have all stopped answering
// raises ONE bus alarm; its devices count as `unknown` and raise nothing of their own — forty offline
// alarms for one cut cable help nobody.
//
// Devices on a shared bus do not all notice a cut at the same poll (polls are staggered), so a device
// that goes offline while its neighbours still answer waits one settle window before its own alarm is
// raised: if the rest of the bus follows within it, the bus alarm is raised instead.
//
// No I/O, no timers: the agent calls observe()/due() and schedules the next deadline, so the logic is
// tested on virtual time and its state (active alarms) is saved with the outbox in one transaction.
import type { Severity } from '../../contracts/alarm.js';
import { alarmIdFor } from '../../rules/alarm-id.js';

export const DEVICE_OFFLINE = 'device_offline';
export const CAMERA_OFFLINE = 'camera_offline';
export const BUS_OFFLINE = 'bus_offline';
const BUS_RULE = 'health.bus_offline';

/** The alarm a device that stops answering raises: the kind's own where the county's desks want one. */
export type OfflineType = typeof DEVICE_OFFLINE | typeof CAMERA_OFFLINE;

/** A profile kind's offline alarm type: `camera_offline` for cameras, else `device_offline`. */
export function offlineTypeFor(kind: string | undefined): OfflineType {
  return kind === 'camera' ? CAMERA_OFFLINE : DEVICE_OFFLINE;
}

const ruleOf = (type: OfflineType) => `health.${type}`;
const nounOf = (type: OfflineType) => (type === CAMERA_OFFLINE ? 'camera' : 'device');

export interface HealthDevice {
  id: string;
  /** The shared link it rides on (Session.busId); undefined for a device with its own. */
  busId?: string;
  pollIntervalMs: number;
  /** The alarm it raises when it stops answering (default device_offline; offlineTypeFor(profile.kind)). */
  offlineType?: OfflineType;
}

/** What a governance user would call it: online, offline, or unknown because its bus is down. */
export type DeviceHealth = 'starting' | 'online' | 'offline' | 'unknown';

export interface HealthAlarm {
  alarmId: string;
  seq: number;
  action: 'raise' | 'clear';
  type: OfflineType | typeof BUS_OFFLINE;
  severity: Severity;
  ruleId: string;
  /** The device id, or the bus id for a bus alarm. */
  subject: string;
  /** For a bus alarm: the devices behind it (the agent takes location and site from the first). */
  devices: string[];
  message: string;
  ts: number;
}

interface ActiveAlarm {
  alarmId: string;
  seq: number;
  /** The type it was raised with, when not device_offline (its clear must carry the same). */
  type?: OfflineType;
}

/** The part that must survive a restart: which alarms are active, so a return clears them. */
export interface HealthState {
  devices: Record<string, ActiveAlarm>;
  buses: Record<string, ActiveAlarm & { devices: string[] }>;
}

interface DeviceEntry {
  health: DeviceHealth;
  /** While offline on a shared bus whose neighbours still answered: when to raise its own alarm. */
  pendingUntil?: number;
  reason?: string;
}

export class HealthTracker {
  private readonly devices = new Map<string, HealthDevice & DeviceEntry>();
  private readonly buses = new Map<string, string[]>();
  private state: HealthState = { devices: {}, buses: {} };

  constructor(devices: readonly HealthDevice[]) {
    for (const d of devices) {
      this.devices.set(d.id, { ...d, health: 'starting' });
      if (d.busId !== undefined) this.buses.set(d.busId, [...(this.buses.get(d.busId) ?? []), d.id]);
    }
  }

  /**
   * Takes the saved state; alarms of devices and buses no longer configured are cleared (returned), so
   * the county does not keep an event open for a sensor that was taken out.
   */
  restore(saved: HealthState, now: number): HealthAlarm[] {
    const out: HealthAlarm[] = [];
    this.state = { devices: {}, buses: {} };
    for (const [id, a] of Object.entries(saved.devices ?? {})) {
      if (this.devices.has(id)) this.state.devices[id] = a;
      else {
        const type = a.type ?? DEVICE_OFFLINE;
        out.push(this.clearOf(a, type, ruleOf(type), id, [id], `${nounOf(type)} ${id} is no longer configured on this edge`, now));
      }
    }
    for (const [id, a] of Object.entries(saved.buses ?? {})) {
      if (this.buses.has(id)) this.state.buses[id] = a;
      else out.push(this.clearOf(a, BUS_OFFLINE, BUS_RULE, id, a.devices, `bus ${id} is no longer configured on this edge`, now));
    }
    return out;
  }

  exportState(): HealthState {
    return structuredClone(this.state);
  }

  /** A poller's online flag changed (or the device failed from the start). */
  observe(deviceId: string, online: boolean, now: number, reason?: string): HealthAlarm[] {
    const d = this.devices.get(deviceId);
    if (!d) return [];
    const out: HealthAlarm[] = [];
    if (online) {
      d.health = 'online';
      delete d.pendingUntil;
      delete d.reason;
      const own = this.state.devices[deviceId];
      if (own) out.push(this.clearDevice(deviceId, own, now));
      if (d.busId !== undefined) out.push(...this.busAnswered(d.busId, now));
      return out;
    }
    if (d.health === 'offline' || d.health === 'unknown') return out;
    d.reason = reason;
    const siblings = d.busId === undefined ? [] : this.buses.get(d.busId)!;
    if (siblings.length < 2) {
      d.health = 'offline';
      out.push(...this.raiseDevice(d, now));
      return out;
    }
    d.health = 'offline';
    d.pendingUntil = now + this.settleMs(d.busId!);
    if (siblings.every((id) => this.isDown(id))) out.push(...this.raiseBus(d.busId!, now));
    return out;
  }

  /** Settle windows that ran out by `now`: those devices raise their own alarm. */
  due(now: number): HealthAlarm[] {
    const out: HealthAlarm[] = [];
    for (const d of this.devices.values()) {
      if (d.pendingUntil === undefined || d.pendingUntil > now) continue;
      delete d.pendingUntil;
      if (d.health === 'offline') out.push(...this.raiseDevice(d, now));
    }
    return out;
  }

  /** The earliest settle deadline, for the agent's timer. */
  nextDeadline(): number | undefined {
    let next: number | undefined;
    for (const d of this.devices.values()) {
      if (d.pendingUntil !== undefined && (next === undefined || d.pendingUntil < next)) next = d.pendingUntil;
    }
    return next;
  }

  health(deviceId: string): DeviceHealth | undefined {
    return this.devices.get(deviceId)?.health;
  }

  /** Buses and whether they are down (an active bus alarm). */
  busStatus(): Array<{ busId: string; devices: string[]; down: boolean }> {
    return [...this.buses].map(([busId, devices]) => ({ busId, devices: [...devices], down: this.state.buses[busId] !== undefined }));
  }

  private isDown(id: string): boolean {
    const h = this.devices.get(id)!.health;
    return h === 'offline' || h === 'unknown';
  }

  /**
   * Two of the bus's slowest polls: neighbours start missing within one interval of each other (polls
   * are staggered); the second covers a poll that overran or waited its turn on a busy line.
   */
  private settleMs(busId: string): number {
    return 2 * Math.max(...this.buses.get(busId)!.map((id) => this.devices.get(id)!.pollIntervalMs));
  }

  private raiseDevice(d: HealthDevice & DeviceEntry, now: number): HealthAlarm[] {
    if (this.state.devices[d.id]) return [];
    if (d.busId !== undefined && this.state.buses[d.busId]) {
      d.health = 'unknown';
      return [];
    }
    const type = d.offlineType ?? DEVICE_OFFLINE;
    const ruleId = ruleOf(type);
    const alarmId = alarmIdFor(d.id, ruleId, now);
    this.state.devices[d.id] = type === DEVICE_OFFLINE ? { alarmId, seq: 0 } : { alarmId, seq: 0, type };
    const why = d.reason ? ` (${d.reason})` : '';
    return [{ alarmId, seq: 0, action: 'raise', type, severity: 'minor', ruleId, subject: d.id, devices: [d.id], message: `${nounOf(type)} ${d.id} stopped answering${why}`, ts: now }];
  }

  private clearDevice(id: string, a: ActiveAlarm, now: number): HealthAlarm {
    delete this.state.devices[id];
    const type = a.type ?? DEVICE_OFFLINE;
    return this.clearOf(a, type, ruleOf(type), id, [id], `${nounOf(type)} ${id} answers again`, now);
  }

  private raiseBus(busId: string, now: number): HealthAlarm[] {
    const members = this.buses.get(busId)!;
    for (const id of members) {
      const d = this.devices.get(id)!;
      delete d.pendingUntil;
      // A device already alarmed on its own (dead before the bus went) keeps its alarm.
      if (!this.state.devices[id]) d.health = 'unknown';
    }
    if (this.state.buses[busId]) return [];
    const alarmId = alarmIdFor(busId, BUS_RULE, now);
    this.state.buses[busId] = { alarmId, seq: 0, devices: [...members] };
    return [{
      alarmId, seq: 0, action: 'raise', type: BUS_OFFLINE, severity: 'major', ruleId: BUS_RULE, subject: busId, devices: [...members],
      message: `${busId} is down: none of its ${members.length} devices answers (${members.join(', ')})`, ts: now,
    }];
  }

  /** A device on the bus answered: the bus is up; its silent neighbours get their own settle window. */
  private busAnswered(busId: string, now: number): HealthAlarm[] {
    const active = this.state.buses[busId];
    if (!active) return [];
    delete this.state.buses[busId];
    for (const id of this.buses.get(busId)!) {
      const d = this.devices.get(id)!;
      if (d.health === 'unknown') {
        d.health = 'offline';
        d.pendingUntil = now + this.settleMs(busId);
      }
    }
    return [this.clearOf(active, BUS_OFFLINE, BUS_RULE, busId, active.devices, `${busId} is up again`, now)];
  }

  private clearOf(a: ActiveAlarm, type: HealthAlarm['type'], ruleId: string, subject: string, devices: string[], message: string, now: number): HealthAlarm {
    return { alarmId: a.alarmId, seq: a.seq + 1, action: 'clear', type, severity: type === BUS_OFFLINE ? 'major' : 'minor', ruleId, subject, devices, message, ts: now };
  }
}
