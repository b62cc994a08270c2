// Shared by the benchmarks (run-all skips files starting with "_"): a flood burst of alarm batches,
// a closed-loop HTTP load generator, and the table every benchmark prints.
import { performance } from 'node:perf_hooks';

export const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
export const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8);
export const BATCH = Number(process.env.BENCH_BATCH ?? 100);
export const DEVICES = 2000;

let serial = 0;

export interface BenchAlarm {
  alarmId: string;
  deviceId: string;
  [key: string]: unknown;
}

/** `n` fresh raises from gauges spread over the sample county (a flood burst); `devices` bounds repeats. */
export function freshAlarms(n = BATCH, devices = DEVICES): BenchAlarm[] {
  const alarms: BenchAlarm[] = [];
  for (let i = 0; i < n; i++) {
    const k = serial++;
    const device = k % devices;
    alarms.push({
      alarmId: `bench-${k.toString(36).padStart(8, '0')}`,
      seq: 0,
      action: 'raise',
      type: 'water_level_warning',
      severity: 'major',
      deviceId: `wl-${device}`,
      profile: 'generic/radar-water-level-gauge',
      value: 3.5 + (k % 100) / 100,
      unit: 'm',
      threshold: 3.5,
      location: { lon: 101.0 + ((device * 7919) % 3000) / 10000, lat: 38.6 + ((device * 104729) % 3000) / 10000 },
      ts: 1_780_000_000_000 + k,
    });
  }
  return alarms;
}

export function freshBatch(): string {
  return JSON.stringify({ alarms: freshAlarms() });
}

export interface Run {
  name: string;
  alarmsPerSecond: number;
  batches: number;
  p50: number;
  p99: number;
}

export function quantiles(sorted: number[]): (p: number) => number {
  return (p) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;
}

/** CONCURRENCY clients posting back to back for SECONDS after a 1 s warm-up (JIT, pools, page cache). */
export async function hammer(name: string, url: string, headers: Record<string, string>, body: () => string, perRequest = BATCH): Promise<Run> {
  const post = async () => {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: body() });
    if (res.status !== 200) throw new Error(`${name}: HTTP ${res.status} ${await res.text()}`);
    await res.arrayBuffer();
  };
  const warmEnd = performance.now() + 1000;
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (performance.now() < warmEnd) await post();
  }));
  const latencies: number[] = [];
  const start = performance.now();
  const end = start + SECONDS * 1000;
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (performance.now() < end) {
      const t0 = performance.now();
      await post();
      latencies.push(performance.now() - t0);
    }
  }));
  const elapsed = (performance.now() - start) / 1000;
  const q = quantiles(latencies.sort((a, b) => a - b));
  return { name, alarmsPerSecond: (latencies.length * perRequest) / elapsed, batches: latencies.length, p50: q(0.5), p99: q(0.99) };
}

/** A Markdown table: first column left-aligned, the rest right-aligned. */
export function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  return [line(head), `|${widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`, ...rows.map(line)].join('\n');
}

export const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
