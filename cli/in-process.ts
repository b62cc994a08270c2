// `gridsense …` inside the calling process, for tests: the same command tree as the binary
// (cli/program.ts), a fresh one per call (commander keeps parsed options), stdout and stderr captured,
// the environment overridden for the call, a GsError ending it with code 2 as cli/main.ts does. It
// costs no Node start and no TypeScript compile per command, which a child process pays (seconds).
import { CommanderError, type Command } from 'commander';
import { isGsError } from '../contracts/errors.js';
import { buildProgram } from './program.js';

export interface CliRun {
  code: number;
  out: string;
  err: string;
}

/** Runs one command at a time: it swaps process.stdout/stderr.write and process.env while it runs. */
export async function runCliInProcess(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  const r: CliRun = { code: 0, out: '', err: '' };
  const program = buildProgram();
  const override = (c: Command): void => {
    c.exitOverride().configureOutput({ writeOut: (s) => (r.out += s), writeErr: (s) => (r.err += s) });
    c.commands.forEach(override);
  };
  override(program);
  const stdout = process.stdout.write;
  const stderr = process.stderr.write;
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  // A command reports some failures through process.exitCode (e.g. an import with rejected rows): read
  // ours, then give the caller's back.
  const callerExitCode = process.exitCode;
  process.exitCode = undefined;
  process.stdout.write = ((chunk: string | Uint8Array) => ((r.out += String(chunk)), true)) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array) => ((r.err += String(chunk)), true)) as typeof process.stderr.write;
  try {
    await program.parseAsync(args, { from: 'user' });
    if (process.exitCode !== undefined && process.exitCode !== 0) r.code = Number(process.exitCode);
  } catch (err) {
    if (isGsError(err)) {
      r.code = 2;
      r.err += `${err.describe()}\n`;
    } else if (err instanceof CommanderError) {
      r.code = err.exitCode;
    } else {
      throw err;
    }
  } finally {
    process.stdout.write = stdout;
    process.stderr.write = stderr;
    process.exitCode = callerExitCode;
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
  return r;
}
