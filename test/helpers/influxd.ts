// Debian's InfluxDB 1.6 (`influxd`) as a server of the test's own: HTTP and RPC on loopback free ports,
// meta/data/wal in a temp folder, no usage reports. Used where a test must stop and restart InfluxDB.
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DbProcess } from './db-process.js';
import { freePort } from './services.js';

export const INFLUXD_BIN = '/usr/bin/influxd';
export const INFLUXD = `InfluxDB 1.x server binary (${INFLUXD_BIN}, Debian influxdb)`;
export const hasInfluxd = (): boolean => existsSync(INFLUXD_BIN);

export class Influxd extends DbProcess {
  private httpPort = 0;
  private rpcPort = 0;

  constructor() {
    super('gridsense-influxd-');
  }

  get url(): string {
    return `http://127.0.0.1:${this.httpPort}`;
  }

  protected readyUrl(): string {
    return `${this.url}/ping`;
  }

  protected async command(): Promise<[string, string[]]> {
    if (this.httpPort === 0) {
      this.httpPort = await freePort();
      this.rpcPort = await freePort();
      const d = this.dir;
      writeFileSync(
        join(d, 'influxdb.conf'),
        [
          'reporting-disabled = true',
          `bind-address = "127.0.0.1:${this.rpcPort}"`,
          '[meta]',
          `  dir = "${join(d, 'meta')}"`,
          '[data]',
          `  dir = "${join(d, 'data')}"`,
          `  wal-dir = "${join(d, 'wal')}"`,
          '  query-log-enabled = false',
          '[http]',
          `  bind-address = "127.0.0.1:${this.httpPort}"`,
          '  log-enabled = false',
          '[monitor]',
          '  store-enabled = false',
          '[subscriber]',
          '  enabled = false',
          '[continuous_queries]',
          '  enabled = false',
          '',
        ].join('\n'),
      );
    }
    return [INFLUXD_BIN, ['-config', join(this.dir, 'influxdb.conf')]];
  }
}
