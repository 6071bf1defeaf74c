import { pino, type Logger, type LoggerOptions } from 'pino';
import pretty from 'pino-pretty';

export type { Logger } from 'pino';

export interface LoggerSetup {
  level?: string;
  /** 'json': JSON lines (journald, pipes); 'pretty': readable colours; 'auto': pretty on a terminal. */
  format?: 'json' | 'pretty' | 'auto';
  /** Write somewhere other than stdout (tests collect lines this way). */
  stream?: NodeJS.WritableStream;
}

/**
 * pino, JSON lines to stdout by default (journald keeps them on the drone), readable on a terminal. The logger
 * writes asynchronously through pino's buffered destination so a slow terminal never stalls the control loop;
 * `flushLogger` drains it at exit.
 */
export function createLogger(setup: LoggerSetup = {}): Logger {
  const opts: LoggerOptions = {
    level: setup.level ?? process.env.RACEPILOT_LOG_LEVEL ?? 'info',
    base: { name: 'racepilot' },
  };
  if (setup.stream) return pino(opts, setup.stream);
  const format = setup.format ?? 'auto';
  const usePretty = format === 'pretty' || (format === 'auto' && process.stdout.isTTY === true);
  if (usePretty) {
    return pino(opts, pretty({ colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,name', sync: true }));
  }
  return pino(opts, pino.destination({ dest: 1, sync: false, minLength: 0 }));
}

export function flushLogger(log: Logger): void {
  try {
    log.flush();
  } catch {
    // An already closed stdout (EPIPE) is not worth crashing over at exit.
  }
}

/** A logger that drops everything: for tests and benchmarks that measure the code, not the terminal. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
