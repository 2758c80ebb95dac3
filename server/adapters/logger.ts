/**
 * A small structured logger: one JSON line per entry on stderr. Fields pass through
 * `maskPersonalData`, so phone numbers never reach the log, and secrets are never handed to it.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

export function createLogger(level: LogLevel, write: (line: string) => void = (line) => process.stderr.write(`${line}\n`)): Logger {
  const log = (at: Exclude<LogLevel, 'silent'>, message: string, fields?: LogFields): void => {
    if (ORDER[at] < ORDER[level]) return;
    const entry = { level: at, time: new Date().toISOString(), msg: maskPersonalData(message), ...maskFields(fields) };
    write(JSON.stringify(entry));
  };
  return {
    debug: (m, f) => log('debug', m, f),
    info: (m, f) => log('info', m, f),
    warn: (m, f) => log('warn', m, f),
    error: (m, f) => log('error', m, f),
  };
}

/** Mainland mobile numbers (optionally +86) become 138****5678. */
export function maskPersonalData(text: string): string {
  return text.replace(/(?<!\d)(\+?86)?(1[3-9]\d)(\d{4})(\d{4})(?!\d)/g, (_m, cc: string | undefined, head: string, _mid: string, tail: string) => `${cc ?? ''}${head}****${tail}`);
}

function maskFields(fields: LogFields | undefined): LogFields {
  if (!fields) return {};
  const out: LogFields = {};
  for (const [key, value] of Object.entries(fields)) {
    if (value instanceof Error) out[key] = maskPersonalData(value.message);
    else if (typeof value === 'string') out[key] = maskPersonalData(value);
    else out[key] = value;
  }
  return out;
}
