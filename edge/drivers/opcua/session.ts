// A device's view of a shared OPC UA link: its node prefix, timeout and sampling interval. The link
// holds the one client session and subscription; this turns profile points into node ids.
import { GsError } from '../../../contracts/errors.js';
import type { ProfilePoint as Point } from '../../../contracts/profile.js';
import { nodeIdProblems } from '../../../device-profiles/checks/opcua.js';
import type { RawPointValue, RawValue, Session } from '../driver.js';
import type { Lease } from '../pool.js';
import type { MonitoredPoint, OpcuaLink, ReadItem } from './link.js';

export interface OpcuaSessionOptions {
  nodePrefix?: string;
  timeoutMs: number;
  /** For points whose profile names no samplingInterval. */
  samplingIntervalMs: number;
  busId: string;
}

type Resolved = { nodeId: string } | { reason: string };

export class OpcuaSession implements Session {
  readonly busId: string;
  private closed = false;
  private readonly subscriptions = new Set<() => void>();

  constructor(
    private readonly lease: Lease<OpcuaLink>,
    private readonly opts: OpcuaSessionOptions,
  ) {
    this.busId = opts.busId;
  }

  /** Every point with a node id is monitored; the rest would only ever read as bad. */
  subscribes(point: Point): boolean {
    return point.opcua !== undefined;
  }

  subscribe(points: readonly Point[], onValue: (value: RawPointValue) => void): () => void {
    this.assertOpen();
    const monitored: MonitoredPoint[] = [];
    const refused: RawPointValue[] = [];
    for (const p of points) {
      const r = this.resolve(p);
      if ('reason' in r) refused.push({ point: p.name, ok: false, reason: r.reason, unreachable: false });
      else monitored.push({ point: p.name, nodeId: r.nodeId, samplingIntervalMs: p.opcua?.samplingInterval ?? this.opts.samplingIntervalMs });
    }
    const off = monitored.length > 0 ? this.lease.value.subscribe(monitored, onValue) : () => undefined;
    let active = true;
    const unsubscribe = () => {
      if (!active) return;
      active = false;
      this.subscriptions.delete(unsubscribe);
      off();
    };
    this.subscriptions.add(unsubscribe);
    // After subscribe() has returned, like every other value: the caller may not be ready before.
    if (refused.length > 0) queueMicrotask(() => refused.forEach((v) => active && onValue(v)));
    return unsubscribe;
  }

  async read(points: readonly Point[]): Promise<RawPointValue[]> {
    this.assertOpen();
    const out = new Map<string, RawPointValue>();
    const items: ReadItem[] = [];
    for (const p of points) {
      const r = this.resolve(p);
      if ('reason' in r) out.set(p.name, { point: p.name, ok: false, reason: r.reason, unreachable: false });
      else items.push({ point: p.name, nodeId: r.nodeId });
    }
    for (const v of await this.lease.value.read(items, this.opts.timeoutMs)) out.set(v.point, v);
    return points.map((p) => out.get(p.name)!);
  }

  async write(point: Point, value: RawValue): Promise<void> {
    const r = this.resolve(point);
    if ('reason' in r) throw new GsError('GS_ERR_DRIVER_VALUE', `point ${point.name} cannot be written: ${r.reason}`);
    this.assertOpen();
    await this.lease.value.write(r.nodeId, `point ${point.name} (${r.nodeId})`, value, this.opts.timeoutMs);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const off of [...this.subscriptions]) off();
    await this.lease.release();
  }

  private assertOpen(): void {
    if (this.closed) throw new GsError('GS_ERR_DRIVER_CLOSED');
  }

  /** The point's node id with `{prefix}` filled in from the device's connection. */
  private resolve(p: Point): Resolved {
    const template = p.opcua?.nodeId;
    if (template === undefined) return { reason: 'no_opcua_attributes' };
    const prefix = this.opts.nodePrefix;
    if (template.includes('{prefix}') && prefix === undefined) return { reason: 'no_node_prefix' };
    const nodeId = prefix === undefined ? template : template.replaceAll('{prefix}', prefix);
    return nodeIdProblems(nodeId).length > 0 ? { reason: 'opcua_bad_node_id_invalid' } : { nodeId };
  }
}
