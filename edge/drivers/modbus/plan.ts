// Batches the points of one unit into the fewest read requests: one round trip per block matters on a
// 9600-baud RS-485 line, where each request costs tens of milliseconds.
import type { ModbusTable } from '../../../contracts/profile.js';
import type { ModbusPointAttributes as ModbusAttrs, ProfilePoint as Point } from '../../../contracts/profile.js';
import { isBitTable, pointWidth } from './codec.js';

/** Protocol limits: FC 3/4 return at most 125 registers, FC 1/2 at most 2000 bits. */
export const MAX_READ_REGISTERS = 125;
export const MAX_READ_BITS = 2000;

export interface PlanOptions {
  /** Unused registers/bits a request may read across to join two blocks (0 = contiguous only). */
  maxGap?: number;
  maxRegisters?: number;
  maxBits?: number;
}

export interface PlannedPoint {
  point: Point;
  attrs: ModbusAttrs;
  /** Where the point starts, in registers (or bits) from the request's first address. */
  offset: number;
  width: number;
}

export interface ReadRequest {
  table: ModbusTable;
  address: number;
  count: number;
  points: PlannedPoint[];
}

const TABLE_ORDER: ModbusTable[] = ['coil', 'discrete_input', 'holding_register', 'input_register'];

/** Points without a `modbus` block are not planned; the session reports them itself. */
export function planReads(points: readonly Point[], opts: PlanOptions = {}): ReadRequest[] {
  const maxGap = opts.maxGap ?? 0;
  const out: ReadRequest[] = [];
  for (const table of TABLE_ORDER) {
    const limit = isBitTable(table) ? (opts.maxBits ?? MAX_READ_BITS) : (opts.maxRegisters ?? MAX_READ_REGISTERS);
    const inTable = points
      .filter((p): p is Point & { modbus: ModbusAttrs } => p.modbus?.table === table)
      .map((p) => ({ point: p, attrs: p.modbus, width: pointWidth(p.modbus) }))
      .sort((a, b) => a.attrs.address - b.attrs.address || b.width - a.width);
    let cur: { req: ReadRequest; end: number } | undefined;
    for (const p of inTable) {
      const start = p.attrs.address;
      const end = start + p.width; // exclusive
      if (cur && start - cur.end <= maxGap && Math.max(cur.end, end) - cur.req.address <= limit) {
        cur.end = Math.max(cur.end, end);
        cur.req.count = cur.end - cur.req.address;
        cur.req.points.push({ point: p.point, attrs: p.attrs, offset: start - cur.req.address, width: p.width });
        continue;
      }
      cur = { req: { table, address: start, count: p.width, points: [] }, end };
      cur.req.points.push({ point: p.point, attrs: p.attrs, offset: 0, width: p.width });
      out.push(cur.req);
    }
  }
  return out;
}
