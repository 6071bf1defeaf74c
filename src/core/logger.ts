import { pino, type Logger, type LoggerOptions } from 'pino';
import pretty from 'pino-pretty';

export type { Logger } from 'pino';

export interface LoggerSetup {
  level?: string;
  /** 'json': JSON lines (journald, pipes); 'pretty': readable colours; 'auto': pretty on a terminal. */
  format?: 'json' | 'pretty' | 'auto';
  /** Write somewhere other than stdout (tests collect lines this way). */
  stream?: NodeJS.WritableStream;
  /** A second destination that gets every JSON line too (the telemetry server's log stream). */
  tee?: NodeJS.WritableStream;
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
  const main = usePretty
    ? pretty({ colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,name', sync: true })
    : pino.destination({ dest: 1, sync: false, minLength: 0 });
  if (!setup.tee) return pino(opts, main);
  // pino.multistream filters by level per stream; both take everything the logger's level lets through.
  return pino(opts, pino.multistream([{ stream: main, level: 'trace' }, { stream: setup.tee, level: 'trace' }]));
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
