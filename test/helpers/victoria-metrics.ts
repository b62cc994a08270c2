// Debian's VictoriaMetrics as the real server speaking InfluxDB 2.x's write API (POST /api/v2/write):
// our InfluxDB 2.x store is tested against it, since no InfluxDB 2.x is installed here. It answers
// reads through its own API (/api/v1/export), not Flux — see edge/telemetry/influx2.test.ts.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DbProcess } from './db-process.js';
import { freePort } from './services.js';

export const VM_BIN = '/usr/bin/victoria-metrics';
export const VICTORIA_METRICS = `VictoriaMetrics (${VM_BIN}, Debian victoria-metrics)`;
export const hasVictoriaMetrics = (): boolean => existsSync(VM_BIN);

export interface ExportedSeries {
  metric: Record<string, string>;
  values: number[];
  timestamps: number[];
}

export class VictoriaMetrics extends DbProcess {
  private port = 0;

  constructor() {
    super('gridsense-vm-');
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  protected readyUrl(): string {
    return `${this.url}/health`;
  }

  protected async command(): Promise<[string, string[]]> {
    if (this.port === 0) this.port = await freePort();
    return [
      VM_BIN,
      [
        `-storageDataPath=${join(this.dir, 'data')}`,
        `-httpListenAddr=127.0.0.1:${this.port}`,
        // The contract's readings are dated 2026-07-01: keep everything, and show writes at once.
        '-retentionPeriod=100y',
        '-search.latencyOffset=0s',
        '-loggerLevel=ERROR',
      ],
    ];
  }

  /** Every sample of the series matching `selector`, after making recent writes searchable. */
  async export(selector: string): Promise<ExportedSeries[]> {
    await fetch(`${this.url}/internal/force_flush`).then((r) => r.arrayBuffer());
    const body = new URLSearchParams({ 'match[]': selector, start: '0' });
    const res = await fetch(`${this.url}/api/v1/export`, { method: 'POST', body });
    if (!res.ok) throw new Error(`export: HTTP ${res.status}`);
    return (await res.text())
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as ExportedSeries);
  }
}
