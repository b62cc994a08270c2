import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** True when socat is on PATH (Debian package socat). */
export function socatAvailable(): boolean {
  const r = spawnSync('socat', ['-V'], { stdio: 'ignore' });
  return r.status === 0;
}

/**
 * A null-modem cable between two pseudo-terminals, made by socat: what one end writes the other reads,
 * byte for byte, through real tty devices — so a serial driver and a serial slave talk as they would
 * over RS-485, without hardware. `a` and `b` are stable symlinks; stop() and start() again is a cable
 * pulled and plugged back (the pty devices behind the links change, the paths do not).
 */
export class SocatPtyPair {
  private proc?: ChildProcess;
  private dir?: string;

  /** One end (give it to the slave). */
  get a(): string {
    return join(this.folder(), 'a');
  }

  /** The other end (give it to the master). */
  get b(): string {
    return join(this.folder(), 'b');
  }

  async start(): Promise<this> {
    const proc = spawn('socat', ['-d', '-d', `pty,raw,echo=0,link=${this.a}`, `pty,raw,echo=0,link=${this.b}`], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    this.proc = proc;
    // With -d -d socat logs "starting data transfer loop" once both ptys exist and the links point at them.
    await new Promise<void>((resolve, reject) => {
      let log = '';
      const timer = setTimeout(() => reject(new Error(`socat did not open its ptys in 10 s: ${log}`)), 10_000);
      const onExit = (code: number | null) => {
        clearTimeout(timer);
        reject(new Error(`socat exited with ${code}: ${log}`));
      };
      proc.once('exit', onExit);
      proc.once('error', onExit);
      proc.stderr!.on('data', (chunk: Buffer) => {
        log += chunk.toString();
        if (log.includes('starting data transfer loop')) {
          clearTimeout(timer);
          proc.off('exit', onExit);
          proc.off('error', onExit);
          resolve();
        }
      });
    });
    return this;
  }

  /** Stops socat; its ptys and links go away, as a USB adapter that was unplugged. */
  async stop(): Promise<void> {
    const proc = this.proc;
    this.proc = undefined;
    if (proc && proc.exitCode === null && proc.signalCode === null) {
      await new Promise<void>((resolve) => {
        proc.once('exit', () => resolve());
        proc.kill('SIGTERM');
        setTimeout(() => proc.kill('SIGKILL'), 3000).unref();
      });
    }
  }

  /** Stops socat and removes the folder of links. */
  async dispose(): Promise<void> {
    await this.stop();
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
    this.dir = undefined;
  }

  private folder(): string {
    this.dir ??= mkdtempSync(join(tmpdir(), 'gridsense-pty-'));
    return this.dir;
  }
}
