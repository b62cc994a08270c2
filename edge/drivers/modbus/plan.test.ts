import t from 'tap';
import type { ProfilePoint as Point } from '../../../contracts/profile.js';
import { planReads } from './plan.js';

const reg = (name: string, address: number, dataType = 'uint16', extra: object = {}): Point =>
  ({ name, type: 'number', modbus: { table: 'holding_register', address, dataType, ...extra } }) as Point;

t.test('contiguous points are one request', async (t) => {
  const plan = planReads([reg('a', 0), reg('b', 1, 'uint32'), reg('c', 3, 'bool', { bit: 0 }), reg('c2', 3, 'bool', { bit: 1 }), reg('d', 4)]);
  t.equal(plan.length, 1);
  t.match(plan[0], { table: 'holding_register', address: 0, count: 5 });
  t.same(plan[0]!.points.map((p) => [p.point.name, p.offset]).sort(), [['a', 0], ['b', 1], ['c', 3], ['c2', 3], ['d', 4]]);
});

t.test('a gap wider than maxGap splits; within it, one request reads across', async (t) => {
  const points = [reg('a', 0), reg('b', 5)];
  t.equal(planReads(points).length, 2, 'contiguous only by default');
  t.equal(planReads(points, { maxGap: 3 }).length, 2, 'gap of 4 > maxGap 3');
  const merged = planReads(points, { maxGap: 4 });
  t.equal(merged.length, 1);
  t.match(merged[0], { address: 0, count: 6 });
  t.equal(merged[0]!.points[1]!.offset, 5);
});

t.test('more than 125 registers split into several requests', async (t) => {
  const many = Array.from({ length: 130 }, (_, i) => reg(`p${i}`, i));
  const plan = planReads(many);
  t.same(plan.map((r) => [r.address, r.count]), [[0, 125], [125, 5]]);
  const wide = planReads([reg('s', 0, 'string', { length: 100 }), reg('t', 100, 'string', { length: 30 })]);
  t.same(wide.map((r) => [r.address, r.count]), [[0, 100], [100, 30]], 'a point is never split across requests');
  const bits = Array.from({ length: 2001 }, (_, i) => ({ name: `c${i}`, type: 'boolean', modbus: { table: 'coil', address: i, dataType: 'bool' } }) as Point);
  t.same(planReads(bits).map((r) => [r.address, r.count]), [[0, 2000], [2000, 1]], '≤ 2000 bits per coil read');
});

t.test('tables are planned separately; points without Modbus attributes are left out', async (t) => {
  const plan = planReads([
    reg('h', 0),
    { name: 'i', type: 'number', modbus: { table: 'input_register', address: 1, dataType: 'uint16' } } as Point,
    { name: 'c', type: 'boolean', modbus: { table: 'coil', address: 0, dataType: 'bool' } } as Point,
    { name: 'x', type: 'number' } as Point,
  ]);
  t.same(plan.map((r) => r.table).sort(), ['coil', 'holding_register', 'input_register']);
});

t.test('a bank of coils spans 16 coils per register of its type and batches with single coils', async (t) => {
  const coil = (name: string, address: number, dataType = 'bool') => ({ name, type: 'number', modbus: { table: 'coil', address, dataType } }) as Point;
  const plan = planReads([coil('pump', 0), coil('relays', 1, 'uint16'), coil('outputs', 17, 'uint32'), coil('far', 100)]);
  t.same(plan.map((r) => [r.address, r.count]), [[0, 49], [100, 1]], 'coils 0, 1–16, 17–48 in one read; 100 apart');
  t.same(plan[0]!.points.map((p) => [p.point.name, p.offset, p.width]), [['pump', 0, 1], ['relays', 1, 16], ['outputs', 17, 32]]);
});
