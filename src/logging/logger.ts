import { pino } from 'pino';
/** The logging the library does; any object with these methods (pino, console) fits. */
export interface Logger {
  /** Detail for finding a problem (off by default). */
  debug(message: string, fields?: Record<string, unknown>): void;
  /** State changes, topics created, restores done. */
  info(message: string, fields?: Record<string, unknown>): void;
  /** Something to look at: dropped or dead-lettered records, a broker outage. */
  warn(message: string, fields?: Record<string, unknown>): void;
  /** A failure that stops processing. */
  error(message: string, fields?: Record<string, unknown>): void;
}

/** The least severe level logged; 'silent' logs nothing. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
const levels: readonly LogLevel[] = ['debug', 'info', 'warn', 'error', 'silent'];

/** True for the names of LogLevel. */
export function isLogLevel(value: unknown): value is LogLevel {
  return typeof value === 'string' && (levels as readonly string[]).includes(value);
}

/** A console logger that prints one line per message at or above `level`. */
export function consoleLogger(level: LogLevel = 'info', prefix = 'kstreams'): Logger {
  const threshold = levels.indexOf(level);
  const at = (name: Exclude<LogLevel, 'silent'>) => (message: string, fields?: Record<string, unknown>) => {
    if (levels.indexOf(name) < threshold) return;
    const suffix = fields === undefined ? '' : ` ${JSON.stringify(fields)}`;
    console.error(`${new Date().toISOString()} ${name.toUpperCase()} [${prefix}] ${message}${suffix}`);
  };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/**
 * The default logger: pino, one JSON object per line on stderr (stdout stays the application's), with the
 * application id bound to every line. kafkajs' own logs come through it as well (see KafkaStreams).
 */
export function pinoLogger(level: LogLevel = 'info', bindings: Record<string, unknown> = {}): Logger {
  const log = pino({ level, base: { pid: process.pid, ...bindings } }, pino.destination({ fd: 2, sync: true }));
  const at = (name: Exclude<LogLevel, 'silent'>) => (message: string, fields?: Record<string, unknown>) => {
    if (fields === undefined) log[name](message);
    else log[name](fields, message);
  };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}
