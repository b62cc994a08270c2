// A Logger that keeps its lines, for tests that check an error was logged with its GS_ERR_ code.
import type { Logger } from '../log.js';

export interface LogLine {
  level: 'debug' | 'info' | 'warn' | 'error';
  msg?: string;
  [field: string]: unknown;
}

export class CapturedLog {
  readonly lines: LogLine[] = [];

  logger(bindings: Record<string, unknown> = {}): Logger {
    const at = (level: LogLine['level']) => (obj: object, msg?: string) => void this.lines.push({ ...bindings, ...obj, level, ...(msg !== undefined ? { msg } : {}) });
    return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child: (b) => this.logger({ ...bindings, ...b }) };
  }

  /** Lines carrying this error code. */
  withCode(code: string): LogLine[] {
    return this.lines.filter((l) => l.code === code);
  }
}
