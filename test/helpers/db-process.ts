// A database server the test owns as a child process on 127.0.0.1 and free ports, with its data in a
// temp folder: stop() ends the process but keeps the data, start() again brings it back on the same
// ports with the same data (a town's InfluxDB rebooted), dispose() ends it and removes the folder.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { httpOk } from './services.js';
import { waitFor } from './wait.js';

export abstract class DbProcess {
  readonly dir: string;
  log = '';
  private proc?: ChildProcess;

  constructor(prefix: string) {
    this.dir = mkdtempSync(join(tmpdir(), prefix));
  }

  /** The base URL of its HTTP API. */
  abstract get url(): string;
  /** Chooses ports (once) and returns [binary, args]. */
  protected abstract command(): Promise<[string, string[]]>;
  /** A URL that answers 2xx once the server takes writes. */
  protected abstract readyUrl(): string;

  async start(): Promise<this> {
    const [bin, args] = await this.command();
    const proc = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc = proc;
    const keep = (c: Buffer) => (this.log = (this.log + c.toString()).slice(-20_000));
    proc.stdout!.on('data', keep);
    proc.stderr!.on('data', keep);
    await waitFor(`${bin} to answer`, async () => {
      if (proc.exitCode !== null) throw new Error(`${bin} exited with ${proc.exitCode}: ${this.log.slice(-2000)}`);
      return (await httpOk(this.readyUrl(), 1000)) ? true : undefined;
    }, 60_000, 200);
    return this;
  }

  get running(): boolean {
    return this.proc !== undefined && this.proc.exitCode === null && this.proc.signalCode === null;
  }

  /** SIGTERM (SIGKILL after 10 s); the data folder stays. */
  async stop(): Promise<void> {
    const proc = this.proc;
    this.proc = undefined;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      const kill = setTimeout(() => proc.kill('SIGKILL'), 10_000);
      proc.once('exit', () => {
        clearTimeout(kill);
        resolve();
      });
      proc.kill('SIGTERM');
    });
  }

  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
