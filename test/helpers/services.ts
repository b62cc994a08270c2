// Suites that need a system server (InfluxDB, pymodbus, PostgreSQL, Mosquitto, ffmpeg…) call
// `needs()`: when the server is there the test runs; when it is not, the test is skipped with a clear
// "SKIP: needs …" line, unless REQUIRE_SERVICES=1 (CI), where a missing server fails the run.
import { connect } from 'node:net';
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

import type { Test } from 'tap';

type Tap = Pick<Test, 'pass' | 'fail'>;

export { freePort } from '../../demo/sim/free-port.js';

export const REQUIRE_SERVICES = process.env.REQUIRE_SERVICES === '1';

/** True when the service is usable; otherwise records a skip (or a failure under REQUIRE_SERVICES). */
export async function needs(t: Tap, what: string, available: () => Promise<boolean> | boolean): Promise<boolean> {
  let ok: boolean;
  try {
    ok = await available();
  } catch {
    ok = false;
  }
  if (ok) return true;
  const line = `SKIP: needs ${what}`;
  if (REQUIRE_SERVICES) {
    t.fail(`${line} (REQUIRE_SERVICES=1, so a missing service is a failure)`);
  } else {
    process.stderr.write(`${line}\n`);
    t.pass(line, { skip: line });
  }
  return false;
}

export function tcpReachable(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(timeoutMs, () => done(false));
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

export async function httpOk(url: string, timeoutMs = 1500): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    return res.status < 500;
  } catch {
    return false;
  }
}

/** Debian's python, which sees Debian's python3-* packages (a pyenv python3 on PATH does not). */
export const SYSTEM_PYTHON = '/usr/bin/python3';

export function pythonHasModule(mod: string): boolean {
  if (!existsSync(SYSTEM_PYTHON)) return false;
  const r = spawnSync(SYSTEM_PYTHON, ['-c', `import ${mod}`], { stdio: 'ignore' });
  return r.status === 0;
}

export const INFLUX_URL = process.env.GRIDSENSE_TEST_INFLUX_URL ?? 'http://127.0.0.1:8086';
