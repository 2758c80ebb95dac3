import pino from 'pino';
import { currentRequestId } from './request-context';

/**
 * Structured logs through pino: one JSON line per entry on stderr (`level`, `time`, `msg`, then
 * the fields). Before a line is written every field goes through `sanitizeFields`: values under a
 * secret-looking key are replaced by `[REDACTED]` at any depth, phone numbers are masked in the
 * message and in every string, and an Error becomes `{type, message, stack, ...}` with its stack
 * kept (and masked too). A line written while a request is handled carries that request's
 * `requestId` (request-context.ts), whichever module writes it.
 *
 * Why not pino's own `redact` paths: they are fixed, case-sensitive paths (`*.password` reaches
 * one level down, and `Authorization` is not `authorization`), and they cannot mask a value by
 * pattern. One walk here does both, whatever the depth.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

/** Where lines go: stderr by default; tests pass a function that collects them. */
export type LogWriter = (line: string) => void;

/** Keys whose values are never logged, compared without case and without `_`/`-`. */
const SECRET_KEYS = new Set([
  'password',
  'passwd',
  'secret',
  'token',
  'accesstoken',
  'refreshtoken',
  'ticket',
  'jsapiticket',
  'aeskey',
  'encodingaeskey',
  'authorization',
  'cookie',
  'setcookie',
  'apikey',
  'privatekey',
  'sessionkey',
  'appsecret',
  'agentsecret',
  'corpsecret',
  // Tencent Cloud API 3.0 (SMS): the SecretKey signs every request.
  'secretkey',
]);
const REDACTED = '[REDACTED]';
/** Deeper than this a value is summarised: a log line is not a dump (axios errors nest deeply). */
const MAX_DEPTH = 8;

export function createLogger(level: LogLevel, write?: LogWriter): Logger {
  const destination = write
    ? { write: (chunk: string) => write(chunk.endsWith('\n') ? chunk.slice(0, -1) : chunk) }
    : pino.destination({ dest: 2, sync: true });
  const base = pino(
    {
      level,
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: {
        level: (label) => ({ level: label }),
        log: (fields) => sanitizeFields(fields),
      },
    },
    destination,
  );
  const log =
    (at: Exclude<LogLevel, 'silent'>) =>
    (message: string, fields?: LogFields): void => {
      if (!base.isLevelEnabled(at)) return;
      const requestId = currentRequestId();
      base[at](requestId === undefined ? (fields ?? {}) : { requestId, ...fields }, maskPersonalData(message));
    };
  return { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
}

/**
 * Mainland mobile numbers (optionally +86) become 138****5678; other international numbers
 * (E.164: `+`, country code, up to 15 digits, as operators type them on a contact) keep their
 * first two and last four digits: +14****2671.
 */
export function maskPersonalData(text: string): string {
  return text
    .replace(
      /(?<!\d)(\+?86)?(1[3-9]\d)(\d{4})(\d{4})(?!\d)/g,
      (_m, cc: string | undefined, head: string, _mid: string, tail: string) => `${cc ?? ''}${head}****${tail}`,
    )
    .replace(/(?<![\d+])\+([1-9]\d)(\d{1,9})(\d{4})(?!\d)/g, (_m, head: string, _mid: string, tail: string) => `+${head}****${tail}`);
}

/** Redacts secrets, masks personal data and serialises errors, at any depth. Pure. */
export function sanitizeFields(fields: LogFields): LogFields {
  const seen = new WeakSet<object>();
  const out: LogFields = {};
  for (const [key, value] of Object.entries(fields)) out[key] = sanitize(key, value, 0, seen);
  return out;
}

function sanitize(key: string, value: unknown, depth: number, seen: WeakSet<object>): unknown {
  if (isSecretKey(key) && value !== undefined && value !== null && value !== '') return REDACTED;
  if (typeof value === 'string') return maskPersonalData(value);
  if (typeof value === 'function' || typeof value === 'symbol') return undefined;
  if (typeof value === 'bigint') return value.toString();
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (Buffer.isBuffer(value)) return `[Buffer ${value.length} bytes]`;
  // `seen` holds the ancestors only: the same object twice side by side is not a cycle.
  if (seen.has(value)) return '[Circular]';
  if (depth >= MAX_DEPTH) return '[Object]';
  seen.add(value);
  try {
    if (Array.isArray(value)) return value.map((item) => sanitize('', item, depth + 1, seen));
    // pino's serializer: type, message and stack (with causes), plus the error's own fields.
    const source: object = value instanceof Error ? pino.stdSerializers.err(value) : value;
    const out: Record<string, unknown> = {};
    for (const [childKey, child] of Object.entries(source)) out[childKey] = sanitize(childKey, child, depth + 1, seen);
    return out;
  } finally {
    seen.delete(value);
  }
}

function isSecretKey(key: string): boolean {
  return SECRET_KEYS.has(key.toLowerCase().replace(/[-_]/g, ''));
}
