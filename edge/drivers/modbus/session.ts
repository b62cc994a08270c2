// A device's view of a shared Modbus link: its unit id, timeout and retry policy. Reads are planned into
// as few requests as the register map allows; each request is one turn on the link.
import type { ModbusClient } from './transport.js';
import { GsError } from '../../../contracts/errors.js';
import type { ProfilePoint as Point } from '../../../contracts/profile.js';
import type { RawPointValue, RawValue, Session } from '../driver.js';
import type { Lease } from '../pool.js';
import { decodeBit, decodeRegisters, encodeRegisters, isBitTable, pointWidth, toWords } from './codec.js';
import { exceptionReason, ModbusFailure, toModbusFailure } from './exceptions.js';
import type { ModbusLink } from './link.js';
import { planReads, type ReadRequest } from './plan.js';

export interface ModbusSessionOptions {
  unitId: number;
  timeoutMs: number;
  /** Extra attempts after a timeout (the register conventions say: retry once). */
  retries: number;
  maxGap: number;
}

const ILLEGAL_ADDRESS = exceptionReason(2);

export class ModbusSession implements Session {
  private closed = false;

  constructor(
    private readonly lease: Lease<ModbusLink>,
    private readonly opts: ModbusSessionOptions,
  ) {}

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
    const { link, unitId, timeoutMs } = this.ctx();
    if (attrs.table === 'coil') {
      if (typeof value !== 'boolean') throw new GsError('GS_ERR_DRIVER_VALUE', `coil ${point.name} takes true or false`);
      await link.transact(unitId, timeoutMs, (c) => c.writeCoil(attrs.address, value));
      return;
    }
    if (attrs.bit !== undefined || attrs.dataType === 'bool') {
      // Read-modify-write in one turn, so no other request on the bus lands between the two halves.
      await link.transact(unitId, timeoutMs, async (c) => {
        const current = (await c.readHoldingRegisters(attrs.address, 1)).buffer;
        await c.writeRegister(attrs.address, encodeRegisters(value, attrs, current).readUInt16BE(0));
      });
      return;
    }
    const words = toWords(encodeRegisters(value, attrs));
    await link.transact(unitId, timeoutMs, async (c) => {
      if (words.length === 1) await c.writeRegister(attrs.address, words[0]!);
      else await c.writeRegisters(attrs.address, words);
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.lease.release();
  }

  private ctx(): { link: ModbusLink; unitId: number; timeoutMs: number } {
    return { link: this.lease.value, unitId: this.opts.unitId, timeoutMs: this.opts.timeoutMs };
  }

  private assertOpen(): void {
    if (this.closed) throw new GsError('GS_ERR_DRIVER_CLOSED');
  }

  /** The response's data bytes (registers big-endian, or packed bits), retrying timeouts. */
  private async readBlock(req: ReadRequest): Promise<Buffer> {
    const { link, unitId, timeoutMs } = this.ctx();
    for (let attempt = 0; ; attempt++) {
      try {
        const buf = await link.transact(unitId, timeoutMs, (c) => readTable(c, req));
        const need = isBitTable(req.table) ? Math.ceil(req.count / 8) : req.count * 2;
        if (buf.length < need) throw new ModbusFailure('GS_ERR_MODBUS_FRAME', 'bad_frame', false, `expected ${need} bytes, got ${buf.length}`);
        return buf;
      } catch (err) {
        const f = toModbusFailure(err);
        if (f.reason !== 'timeout' || attempt >= this.opts.retries) throw f;
      }
    }
  }

  private decode(req: ReadRequest, data: Buffer, out: Map<string, RawPointValue>): void {
    for (const p of req.points) {
      try {
        const value = isBitTable(req.table)
          ? decodeBit(data, p.offset)
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

async function readTable(c: ModbusClient, req: ReadRequest): Promise<Buffer> {
  switch (req.table) {
    case 'coil': return (await c.readCoils(req.address, req.count)).buffer;
    case 'discrete_input': return (await c.readDiscreteInputs(req.address, req.count)).buffer;
    case 'holding_register': return (await c.readHoldingRegisters(req.address, req.count)).buffer;
    case 'input_register': return (await c.readInputRegisters(req.address, req.count)).buffer;
  }
}
