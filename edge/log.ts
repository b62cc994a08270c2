import pino from 'pino';

/** The slice of pino the edge uses; anything with these methods (a test spy) can stand in. */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  child(bindings: Record<string, unknown>): Logger;
}

export function createLogger(name = 'gridsense-edge'): Logger {
  return pino({ name, level: process.env.GRIDSENSE_LOG_LEVEL ?? 'info' });
}

export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

/** Plain fields of an error for a log line (a GsError keeps its code). */
export function errFields(err: unknown): Record<string, unknown> {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return code === undefined ? { err: err.message } : { err: err.message, code };
  }
  return { err: String(err) };
}
