// A device's view of a shared Modbus link: its unit id, timeout and retry policy. Reads are planned into
// as few requests as the register map allows; each request is one turn on the link, and writes take
// the next free turn ahead of waiting polls. What each transaction tells about the slave (it answered,
// it stayed silent) feeds the link's quarantine, which lets a dead slave's reads fail at once.
import type { ModbusClient } from './transport.js';
import { GsError } from '../../../contracts/errors.js';
import type { ProfilePoint as Point } from '../../../contracts/profile.js';
import type { ModbusPointAttributes as ModbusAttrs } from '../../../contracts/profile.js';
import type { Logger } from '../../log.js';
import type { RawPointValue, RawValue, Session } from '../driver.js';
import type { Lease } from '../pool.js';
import { decodeBitPoint, decodeRegisters, encodeBitPoint, encodeRegisters, isBitTable, pointWidth, toWords } from './codec.js';
import { exceptionReason, isSlaveSilence, ModbusFailure, toModbusFailure } from './exceptions.js';
import type { ModbusLink, TransactOptions } from './link.js';
import { planReads, type ReadRequest } from './plan.js';

export interface ModbusSessionOptions {
  unitId: number;
  timeoutMs: number;
  /** Extra attempts after a timeout (the register conventions say: retry once). */
  retries: number;
  maxGap: number;
  /** Quiet time on the line after each of this device's transactions (0: none). */
  gapMs?: number;
}

/** Protocol limits of one write: FC 16 carries at most 123 registers, FC 15 at most 1968 coils. */
export const MAX_WRITE_REGISTERS = 123;
export const MAX_WRITE_COILS = 1968;

const ILLEGAL_ADDRESS = exceptionReason(2);

export class ModbusSession implements Session {
  readonly busId: string;
  private closed = false;

  constructor(
    private readonly lease: Lease<ModbusLink>,
    private readonly opts: ModbusSessionOptions,
    private readonly logger: Logger,
  ) {
    this.busId = lease.value.busId;
  }

  async read(points: readonly Point[]): Promise<RawPointValue[]> {
    this.assertOpen();
    const results = new Map<string, RawPointValue>();
    for (const p of points) {
      if (!p.modbus) results.set(p.name, { point: p.name, ok: false, reason: 'no_modbus_attributes', unreachable: false });
    }
    let unreachable: ModbusFailure | undefined;
    for (const req of planReads(points, { maxGap: this.opts.maxGap })) {
      // Once the device has not answered, the rest of this poll would only wait for the same timeout.
      if (unreachable) {
        this.fail(req, unreachable, results);
        continue;
      }
      try {
        this.decode(req, await this.readBlock(req), results);
      } catch (err) {
        const f = toModbusFailure(err);
        if (f.unreachable) unreachable = f;
        if (f.reason === ILLEGAL_ADDRESS && req.points.length > 1) {
          // One register the device lacks must not blank out its neighbours: read them one by one.
          await this.readOneByOne(req, results);
        } else {
          this.fail(req, f, results);
        }
      }
    }
    return points.map((p) => results.get(p.name)!);
  }

  async write(point: Point, value: RawValue): Promise<void> {
    const attrs = point.modbus;
    if (!attrs) throw new GsError('GS_ERR_DRIVER_VALUE', `point ${point.name} has no Modbus address`);
    if (attrs.table === 'discrete_input' || attrs.table === 'input_register') {
      throw new GsError('GS_ERR_DRIVER_VALUE', `point ${point.name} is in ${attrs.table}, which is read-only`);
    }
    this.assertOpen();
    // Encoded before the turn is taken: a value that does not fit never touches the bus.
    const op = writeOperation(point.name, attrs, value);
    // A write is someone's command, so it is tried even while the slave is quarantined; its outcome
    // tells the quarantine as much as a probe would.
    await this.observed(() => this.withRetries(this.opts.retries, () => this.transact(op, 'high')));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.lease.release();
  }

  private get link(): ModbusLink {
    return this.lease.value;
  }

  private assertOpen(): void {
    if (this.closed) throw new GsError('GS_ERR_DRIVER_CLOSED');
  }

  private transact<T>(fn: (c: ModbusClient) => Promise<T>, priority: TransactOptions['priority'] = 'normal'): Promise<T> {
    const { unitId, timeoutMs, gapMs } = this.opts;
    return this.link.transact(unitId, { timeoutMs, priority, ...(gapMs ? { gapMs } : {}) }, fn);
  }

  /** The response's data bytes (registers big-endian, or packed bits), retrying timeouts. */
  private readBlock(req: ReadRequest): Promise<Buffer> {
    const { unitId } = this.opts;
    const admission = this.link.quarantine.admit(unitId);
    if (admission === 'quarantined') {
      return Promise.reject(new ModbusFailure('GS_ERR_DEVICE_UNREACHABLE', 'quarantined', true, `unit ${unitId} on ${this.link.transport.endpoint} stopped answering; it is probed now and then`));
    }
    // A probe asks once: retrying a slave already known to be silent would only hold the line longer.
    const retries = admission === 'probe' ? 0 : this.opts.retries;
    return this.observed(() =>
      this.withRetries(retries, async () => {
        const buf = await this.transact((c) => readTable(c, req));
        const need = isBitTable(req.table) ? Math.ceil(req.count / 8) : req.count * 2;
        if (buf.length < need) throw new ModbusFailure('GS_ERR_MODBUS_FRAME', 'bad_frame', false, `expected ${need} bytes, got ${buf.length}`);
        return buf;
      }),
    );
  }

  private async withRetries<T>(retries: number, attempt: () => Promise<T>): Promise<T> {
    for (let n = 0; ; n++) {
      try {
        return await attempt();
      } catch (err) {
        const f = toModbusFailure(err);
        if (f.reason !== 'timeout' || n >= retries) throw f;
      }
    }
  }

  /** Runs the transaction(s) and tells the quarantine what they showed about the slave. */
  private async observed<T>(run: () => Promise<T>): Promise<T> {
    const { unitId } = this.opts;
    const quarantine = this.link.quarantine;
    try {
      const value = await run();
      if (quarantine.answered(unitId)) this.logger.info({ bus: this.busId, unitId }, 'modbus slave answers again');
      return value;
    } catch (err) {
      const f = toModbusFailure(err);
      if (isSlaveSilence(f)) {
        const first = !quarantine.isQuarantined(unitId);
        const waitMs = quarantine.unanswered(unitId);
        if (first) this.logger.warn({ bus: this.busId, unitId, reason: f.reason, probeInMs: waitMs }, 'modbus slave stopped answering: quarantined');
      } else if (f.unreachable) {
        quarantine.inconclusive(unitId); // the link failed, not the slave
      } else {
        quarantine.answered(unitId); // an exception or a garbled frame: something is alive there
      }
      throw f;
    }
  }

  private decode(req: ReadRequest, data: Buffer, out: Map<string, RawPointValue>): void {
    for (const p of req.points) {
      try {
        const value = isBitTable(req.table)
          ? decodeBitPoint(data, p.offset, p.attrs)
          : decodeRegisters(data.subarray(p.offset * 2, (p.offset + p.width) * 2), p.attrs);
        out.set(p.point.name, { point: p.point.name, ok: true, value });
      } catch {
        out.set(p.point.name, { point: p.point.name, ok: false, reason: 'decode_error', unreachable: false });
      }
    }
  }

  private fail(req: ReadRequest, f: ModbusFailure, out: Map<string, RawPointValue>): void {
    for (const p of req.points) out.set(p.point.name, { point: p.point.name, ok: false, reason: f.reason, unreachable: f.unreachable });
  }

  private async readOneByOne(req: ReadRequest, out: Map<string, RawPointValue>): Promise<void> {
    for (const p of req.points) {
      const single: ReadRequest = { table: req.table, address: p.attrs.address, count: pointWidth(p.attrs), points: [{ ...p, offset: 0 }] };
      try {
        this.decode(single, await this.readBlock(single), out);
      } catch (err) {
        this.fail(single, toModbusFailure(err), out);
      }
    }
  }
}

/** The transaction that writes `value` to the point: FC 5/15 for coils, FC 6/16 for registers. */
function writeOperation(name: string, attrs: ModbusAttrs, value: RawValue): (c: ModbusClient) => Promise<unknown> {
  const { address } = attrs;
  if (attrs.table === 'coil') {
    const bits = encodeBitPoint(value, attrs);
    if (bits.length > MAX_WRITE_COILS) throw new GsError('GS_ERR_DRIVER_VALUE', `${name} spans ${bits.length} coils; one write sets at most ${MAX_WRITE_COILS}`);
    return bits.length === 1 ? (c) => c.writeCoil(address, bits[0]!) : (c) => c.writeCoils(address, bits);
  }
  if (attrs.bit !== undefined || attrs.dataType === 'bool') {
    if (typeof value !== 'boolean') throw new GsError('GS_ERR_DRIVER_VALUE', `${name} is a bit: it takes true or false, not ${typeof value}`);
    // Read-modify-write in one turn, so no other request on the bus lands between the two halves.
    return async (c) => {
      const current = (await c.readHoldingRegisters(address, 1)).buffer;
      await c.writeRegister(address, encodeRegisters(value, attrs, current).readUInt16BE(0));
    };
  }
  const words = toWords(encodeRegisters(value, attrs));
  if (words.length > MAX_WRITE_REGISTERS) throw new GsError('GS_ERR_DRIVER_VALUE', `${name} spans ${words.length} registers; one write sets at most ${MAX_WRITE_REGISTERS}`);
  return words.length === 1 ? (c) => c.writeRegister(address, words[0]!) : (c) => c.writeRegisters(address, words);
}

async function readTable(c: ModbusClient, req: ReadRequest): Promise<Buffer> {
  switch (req.table) {
    case 'coil': return (await c.readCoils(req.address, req.count)).buffer;
    case 'discrete_input': return (await c.readDiscreteInputs(req.address, req.count)).buffer;
    case 'holding_register': return (await c.readHoldingRegisters(req.address, req.count)).buffer;
    case 'input_register': return (await c.readInputRegisters(req.address, req.count)).buffer;
  }
}
