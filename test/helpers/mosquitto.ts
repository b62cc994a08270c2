// Eclipse Mosquitto as a real, third-party MQTT peer: its command-line clients (mosquitto_pub,
// mosquitto_sub from Debian's mosquitto-clients) against our broker, and a broker of its own started per
// test on 127.0.0.1 and a free port, never 1883, where the machine's own Mosquitto may already listen.
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, tcpReachable } from './services.js';
import { waitFor } from './wait.js';

export const MOSQUITTO_CLIENTS = 'mosquitto_pub (mosquitto-clients)';
export const MOSQUITTO_BROKER = 'mosquitto (the Debian mosquitto package)';
const BROKER_BIN = '/usr/sbin/mosquitto';

function runs(cmd: string, args: string[]): boolean {
  const r = spawnSync(cmd, args, { stdio: 'ignore' });
  return r.error === undefined;
}

export function hasMosquittoClients(): boolean {
  return runs('mosquitto_pub', ['--help']) && runs('mosquitto_sub', ['--help']);
}

export function hasMosquittoBroker(): boolean {
  return runs(BROKER_BIN, ['-h']) && runs('mosquitto_passwd', ['-h']);
}

export interface ToolResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs mosquitto_pub to completion; a refused login is a non-zero exit code with the reason on stderr. */
export function mosquittoPub(args: string[], timeoutMs = 10_000): Promise<ToolResult> {
  return new Promise((resolve) => {
    execFile('mosquitto_pub', args, { timeout: timeoutMs }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/**
 * A long-running mosquitto_sub (a device that stays connected, e.g. with a last will). kill() ends it
 * with SIGKILL: the kernel closes the socket without an MQTT DISCONNECT, as when a sensor loses power.
 */
export class MosquittoSub {
  readonly lines: string[] = [];
  private readonly proc: ChildProcess;
  stderr = '';

  constructor(args: string[]) {
    this.proc = spawn('mosquitto_sub', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let buf = '';
    this.proc.stdout!.on('data', (c: Buffer) => {
      buf += c.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        this.lines.push(buf.slice(0, nl));
        buf = buf.slice(nl + 1);
      }
    });
    this.proc.stderr!.on('data', (c: Buffer) => (this.stderr += c.toString()));
  }

  get exited(): boolean {
    return this.proc.exitCode !== null || this.proc.signalCode !== null;
  }

  kill(): Promise<void> {
    if (this.exited) return Promise.resolve();
    return new Promise((resolve) => {
      this.proc.once('exit', () => resolve());
      this.proc.kill('SIGKILL');
    });
  }
}

export interface MosquittoOptions {
  /** Logins; with none, anonymous clients are allowed. */
  users?: Array<{ username: string; password: string }>;
  /** Mosquitto ACL file lines (`user x`, `topic readwrite devices/x/#`, `pattern …`). */
  acl?: string[];
}

/** A Mosquitto broker of the test's own, with a temp config; stop() ends it and removes the folder. */
export class MosquittoBroker {
  port = 0;
  log = '';
  private proc?: ChildProcess;
  private dir?: string;

  constructor(private readonly opts: MosquittoOptions = {}) {}

  /** Starts it; after a stop, again on the same port (a broker that restarts). */
  async start(): Promise<this> {
    while (this.port === 0 || this.port === 1883) this.port = await freePort();
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
    const dir = mkdtempSync(join(tmpdir(), 'gridsense-mosquitto-'));
    this.dir = dir;
    const conf = [`listener ${this.port} 127.0.0.1`, 'persistence false', 'log_dest stderr', 'log_type error', 'log_type warning', 'log_type notice'];
    // Started as root, Mosquitto drops to the `mosquitto` user, which cannot read our private temp folder.
    if (process.getuid?.() === 0) conf.push('user root');
    if (this.opts.users?.length) {
      const pw = join(dir, 'passwd');
      writeFileSync(pw, '');
      for (const u of this.opts.users) {
        const r = spawnSync('mosquitto_passwd', ['-b', pw, u.username, u.password]);
        if (r.status !== 0) throw new Error(`mosquitto_passwd failed: ${r.stderr.toString()}`);
      }
      conf.push('allow_anonymous false', `password_file ${pw}`);
    } else {
      conf.push('allow_anonymous true');
    }
    if (this.opts.acl) {
      const acl = join(dir, 'acl');
      writeFileSync(acl, `${this.opts.acl.join('\n')}\n`);
      conf.push(`acl_file ${acl}`);
    }
    const confFile = join(dir, 'mosquitto.conf');
    writeFileSync(confFile, `${conf.join('\n')}\n`);
    const proc = spawn(BROKER_BIN, ['-c', confFile], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.proc = proc;
    proc.stderr!.on('data', (c: Buffer) => (this.log += c.toString()));
    await waitFor('mosquitto to listen', async () => {
      if (proc.exitCode !== null) throw new Error(`mosquitto exited with ${proc.exitCode}: ${this.log}`);
      return (await tcpReachable('127.0.0.1', this.port, 500)) ? true : undefined;
    }, 15_000);
    return this;
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  async stop(): Promise<void> {
    const proc = this.proc;
    if (proc && proc.exitCode === null && proc.signalCode === null) {
      await new Promise<void>((resolve) => {
        proc.once('exit', () => resolve());
        proc.kill('SIGTERM');
        setTimeout(() => proc.kill('SIGKILL'), 3000).unref();
      });
    }
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
    this.dir = undefined;
  }
}
