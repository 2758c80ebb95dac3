import path from 'node:path';
import { z } from 'zod';
import { outboxEnvSchema, readOutboxConfig, type OutboxConfig } from './outbox.config';
import { readSmsConfig, smsEnvSchema, type SmsConfig } from './sms.config';
import { payEnvSchema, readPayConfig, type PayConfig } from './pay.config';
import { contentStoreEnvSchema, readS3StoreConfig, type S3StoreConfig } from './content-store.config';
import { readVisitorConfig, visitorEnvSchema, type VisitorConfig } from './visitor.config';

/**
 * The environment is read once, at start-up, into a frozen Config. Every variable is optional;
 * without WeChat/WeCom credentials Flywheel runs against the in-process sandbox platform.
 * Secrets never leave this object except into the adapters that need them.
 */

// Sandbox credentials: fixed so that `npm run sandbox` and the server agree without setup.
// They are public (they are in this file), so they are used only in sandbox mode: a platform
// outside sandbox mode is enabled by its own credentials or not at all, never by these.
export const SANDBOX_CREDENTIALS = Object.freeze({
  wechatAppId: 'wxsandbox0000000001',
  wechatSecret: 'sandbox-wechat-secret',
  wechatToken: 'sandboxtoken',
  wechatAesKey: 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG',
  wecomCorpId: 'wwsandbox0000000001',
  wecomToken: 'sandboxwecomtoken',
  wecomAesKey: 'jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C',
  wecomSecret: 'sandbox-wecom-contact-secret',
  wecomAgentId: '1000002',
  wecomAgentSecret: 'sandbox-wecom-agent-secret',
  miniprogramAppId: 'wxsandboxmp00000001',
  miniprogramSecret: 'sandbox-miniprogram-secret',
});

const optionalText = z.string().trim().min(1).optional();
const aesKey = z
  .string()
  .regex(/^[A-Za-z0-9+/]{43}$/, 'must be the 43-character EncodingAESKey from the platform console')
  .optional();
const url = z.url().optional();
/**
 * An IANA zone name this Node knows (Intl throws a RangeError for any other), kept in its
 * canonical spelling (`asia/shanghai` becomes `Asia/Shanghai`).
 */
const ianaTimeZone = z
  .string()
  .trim()
  .transform((zone, ctx) => {
    try {
      return new Intl.DateTimeFormat('en-US', { timeZone: zone }).resolvedOptions().timeZone;
    } catch {
      ctx.addIssue({ code: 'custom', message: 'must be an IANA time zone such as Asia/Shanghai' });
      return z.NEVER;
    }
  });

/** scrypt's N for passwords: OWASP's minimum (why: server/modules/operators/password-hash.ts). */
export const OWASP_SCRYPT_N = 2 ** 14;
/** The least PASSWORD_SCRYPT_N accepted, outside production only: for test suites. */
export const MIN_SCRYPT_N = 2 ** 10;

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  DATABASE_URL: z
    .string()
    .regex(/^(sqlite:.+|mysql:\/\/.+)$/, 'must be sqlite:<path> or mysql://user:pass@host:port/db')
    .default('sqlite:./data/flywheel.sqlite'),
  WECHAT_APPID: optionalText,
  WECHAT_SECRET: optionalText,
  WECHAT_TOKEN: optionalText,
  WECHAT_AES_KEY: aesKey,
  WECHAT_MESSAGE_MODE: z.enum(['plain', 'compatible', 'safe']).optional(),
  WECOM_CORP_ID: optionalText,
  WECOM_TOKEN: optionalText,
  WECOM_AES_KEY: aesKey,
  WECOM_SECRET: optionalText,
  WECOM_AGENT_ID: optionalText,
  WECOM_AGENT_SECRET: optionalText,
  MINIPROGRAM_APPID: optionalText,
  MINIPROGRAM_SECRET: optionalText,
  // The mini-program API (/api/mp): how long a login's session token lasts, the key that encrypts
  // the stored session_key (without it a random one is kept in the database), and the calls per 10
  // minutes per session and per client IP (loose: a venue's Wi-Fi puts many phones behind one address).
  MINIPROGRAM_SESSION_TTL_S: z.coerce
    .number()
    .int()
    .min(60)
    .max(90 * 86_400)
    .default(7 * 86_400),
  MINIPROGRAM_SESSION_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  MP_RATE_PER_SESSION: z.coerce.number().int().min(1).max(1_000_000).default(600),
  MP_RATE_PER_IP: z.coerce.number().int().min(1).max(1_000_000).default(3_000),
  WECHAT_API_BASE: url,
  WECOM_API_BASE: url,
  CALLBACK_MAX_AGE_S: z.coerce.number().int().min(0).default(300),
  ADMIN_USERNAME: optionalText,
  ADMIN_PASSWORD: z.string().min(8, 'must be at least 8 characters').optional(),
  // scrypt's cost for new password hashes (server/modules/operators/password-hash.ts): the OWASP
  // minimum by default; a test suite may go lower, production may not (checked below).
  PASSWORD_SCRYPT_N: z.coerce
    .number()
    .int()
    .min(MIN_SCRYPT_N)
    .max(2 ** 20)
    .refine((n) => (n & (n - 1)) === 0, 'must be a power of two')
    .default(OWASP_SCRYPT_N),
  PUBLIC_BASE_URL: url,
  SANDBOX: z.enum(['auto', 'on', 'off']).default('auto'),
  TRUST_PROXY: z.stringbool().default(false),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info'),
  BUSINESS_TIMEZONE: ianaTimeZone.default('Asia/Shanghai'),
  ADMIN_LOCALE: z.enum(['zh-CN', 'en']).default('zh-CN'),
  // A bearer secret for /metrics; short ones are guessable, since nothing throttles the endpoint.
  METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  // The largest lead CSV an operator may upload (bytes): 100,000 rows of leads are about 10 MB.
  IMPORT_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .max(512 * 1024 * 1024)
    .default(32 * 1024 * 1024),
  ...outboxEnvSchema.shape,
  // Signs journeys' tracked links (/r/<code>); without it a random one is kept in the database.
  LINK_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  ...smsEnvSchema.shape,
  // Signs exhibition tickets (server/modules/exhibitions/ticket-token.ts); without it a random one is kept in the database.
  TICKET_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  // The approved SMS template of the event registration code, with one variable ({1}: the code).
  EVENT_SMS_CODE_TEMPLATE_ID: z.string().trim().min(1).max(64).optional(),
  // The public exhibition API's limits per 10 minutes: per client IP, and per phone number. The IP
  // limit is loose: visitors at a venue share its Wi-Fi, and mobile carriers put many behind one address.
  EVENT_RATE_PER_IP: z.coerce.number().int().min(1).max(100_000).default(300),
  EVENT_RATE_PER_PHONE: z.coerce.number().int().min(1).max(1_000).default(5),
  // The day-before reminder: its time (HH:MM, business time zone), and the templates of its three
  // channels, each with the keywords thing1 (event), time2 (start), thing3 (venue), thing4 (the
  // event-day facts); the SMS template's {1} is the person, {2} the event with its facts.
  EVENT_REMINDER_TIME: z
    .string()
    .regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be HH:MM')
    .default('10:00'),
  EVENT_REMINDER_TEMPLATE_ID: z.string().trim().min(1).max(64).optional(),
  EVENT_REMINDER_MP_TEMPLATE_ID: z.string().trim().min(1).max(64).optional(),
  EVENT_REMINDER_SMS_TEMPLATE_ID: z.string().trim().min(1).max(64).optional(),
  // The after-event messages (the recap push and the survey invitation): the templates of the same
  // three channels, each with the keywords thing1 (event), thing2 (title), thing3 (text); the SMS
  // template's {1} is the title, {2} the text with the link.
  EVENT_RECAP_TEMPLATE_ID: z.string().trim().min(1).max(64).optional(),
  EVENT_RECAP_MP_TEMPLATE_ID: z.string().trim().min(1).max(64).optional(),
  EVENT_RECAP_SMS_TEMPLATE_ID: z.string().trim().min(1).max(64).optional(),
  // WeChat Pay (config/pay.config.ts).
  ...payEnvSchema.shape,
  // Visitors of the public pages: web OAuth and the visitor cookie (config/visitor.config.ts).
  ...visitorEnvSchema.shape,
  // The content centre's files (server/modules/content): a folder, and the largest upload.
  CONTENT_DIR: optionalText,
  CONTENT_MAX_UPLOAD_MB: z.coerce.number().int().min(1).max(2000).default(200),
  // ... or an S3-compatible store instead of the folder (config/content-store.config.ts).
  ...contentStoreEnvSchema.shape,
});

export type DatabaseConfig = { kind: 'sqlite'; path: string } | { kind: 'mysql'; url: string };

/**
 * The Official Account's message mode (消息加解密方式), as chosen in its console:
 * - `plain` (明文模式): the body is plaintext XML; `signature` covers token, timestamp and nonce,
 *   never the body.
 * - `compatible` (兼容模式): `encrypt_type=aes`, the body holds the plaintext fields and Encrypt.
 * - `safe` (安全模式): `encrypt_type=aes`, the body holds only the Encrypt envelope.
 * @link https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Message_encryption_and_decryption_instructions.html
 */
export type OfficialAccountMessageMode = 'plain' | 'compatible' | 'safe';

export interface OfficialAccountConfig {
  appId: string;
  secret: string;
  token: string;
  aesKey: string;
  /**
   * What a callback must be. In `safe` and `compatible` a request without `encrypt_type=aes` is
   * refused: the request must not choose its own mode, or anyone holding one signed URL could
   * post plaintext that nothing signs. Default: `safe` when an AES key is configured.
   */
  messageMode: OfficialAccountMessageMode;
}

export interface WecomConfig {
  corpId: string;
  token: string;
  aesKey: string;
  secret: string;
  agentId: string;
  agentSecret: string;
}

export interface Config {
  env: 'development' | 'production' | 'test';
  port: number;
  publicBaseUrl: string;
  database: DatabaseConfig;
  /** True when Flywheel serves the fake platform itself and points the adapters at it. */
  sandbox: boolean;
  /**
   * null = this platform is disabled: its callback routes answer 404 and no client is built.
   * In sandbox mode both are set (a platform without credentials gets the sandbox values).
   */
  officialAccount: OfficialAccountConfig | null;
  wecom: WecomConfig | null;
  miniprogram: MiniProgramConfig;
  /** null = the real hosts; the composition root fills in the sandbox URL in sandbox mode. */
  wechatApiBase: string | null;
  wecomApiBase: string | null;
  callbackMaxAgeSeconds: number;
  bootstrapAdmin: { username: string; password: string } | null;
  /** scrypt's N for new password hashes (a power of two; at least 2^14 in production). */
  passwordScryptN: number;
  /**
   * Take the client IP (audit log, login throttling) from X-Forwarded-For. Only behind a proxy
   * that sets it: otherwise any client can write whatever IP it likes there.
   */
  trustProxy: boolean;
  logLevel: 'debug' | 'info' | 'warn' | 'error' | 'silent';
  /**
   * IANA zone of the business: cron expressions are read in it, and reports cut days in it.
   * Times are stored in UTC; this only decides where a day starts.
   */
  businessTimeZone: string;
  /** The admin page's language until an operator picks another. */
  adminLocale: 'zh-CN' | 'en';
  /** Bearer token for GET /metrics; null: /metrics answers loopback clients only. */
  metricsToken: string | null;
  /** The largest lead CSV POST /api/admin/imports accepts, in bytes (413 beyond). */
  importMaxBytes: number;
  /** Sends: rate limits, quiet hours, frequency caps (config/outbox.config.ts). */
  outbox: OutboxConfig;
  /**
   * The HMAC key of journeys' tracked links. null: a random key made on first use and kept in the
   * `settings` table (server/modules/journeys/tracked-links.ts).
   */
  linkSecret: string | null;
  /**
   * Tencent Cloud SMS (config/sms.config.ts); null: the `sms` channel is disabled and its rows
   * wait. In sandbox mode without SMS_* credentials it is the sandbox's account.
   */
  sms: SmsConfig | null;
  /**
   * WeChat Pay (config/pay.config.ts). `merchant` null: payments are off, unless in sandbox mode,
   * where the sandbox's generated merchant is used (server/adapters/sandbox/sandbox-pay-keys.ts).
   */
  pay: PayConfig;
  /** The public pages' visitors: web OAuth's host, the cookie's key and lifetime (config/visitor.config.ts). */
  visitors: VisitorConfig;
  /** Exhibitions (server/modules/exhibitions). */
  events: EventsConfig;
  /**
   * The content centre (server/modules/content): the folder its files are kept in (CONTENT_DIR;
   * default `content/` beside the SQLite file, or `./data/content` on MySQL) and the largest
   * upload in bytes (CONTENT_MAX_UPLOAD_MB, at most 2000: the size column is an int). With `s3`
   * set the files go to that S3-compatible store and the folder only stages uploads.
   */
  content: { dir: string; maxUploadBytes: number; s3: S3StoreConfig | null };
}

/** The mini-program (server/adapters/miniprogram.client.ts) and its API (server/http/mp.routes.ts). */
export interface MiniProgramConfig {
  appId: string;
  secret: string;
  /** How long a `POST /api/mp/login` session token is good for. */
  sessionTtlSeconds: number;
  /** Encrypts the stored session_key; null: a random key made on first use and kept in `settings`. */
  sessionSecret: string | null;
  /** /api/mp calls per window, per session and per client IP. */
  rateLimits: { perSession: number; perIp: number; windowMs: number };
}

export interface EventsConfig {
  /**
   * The tickets' HMAC key. null: a random key made on first use and kept in `settings`
   * (server/modules/exhibitions/ticket-secret.ts).
   */
  ticketSecret: string | null;
  /** The SMS template of the registration code; in sandbox mode the sandbox's `1400001` when unset; null: no code can be sent. */
  smsCodeTemplateId: string | null;
  /** Public API calls per window, per client IP and per phone number. */
  rateLimits: { perIp: number; perPhone: number; windowMs: number };
  /**
   * The day-before reminder: HH:MM in the business zone, and each channel's template (null: that
   * channel is passed over). In sandbox mode the sandbox's templates when unset.
   */
  reminder: { time: string; oaTemplateId: string | null; mpTemplateId: string | null; smsTemplateId: string | null };
  /** The recap push's and survey invitation's templates (null: that channel is passed over); the sandbox's when unset in sandbox mode. */
  recap: { oaTemplateId: string | null; mpTemplateId: string | null; smsTemplateId: string | null };
}

/** The sandbox's approved verification-code template (server/adapters/sandbox/sandbox-sms.ts). */
export const SANDBOX_SMS_CODE_TEMPLATE_ID = '1400001';
/** The sandbox's event reminder SMS template ({1} the person, {2} the event). */
export const SANDBOX_SMS_REMINDER_TEMPLATE_ID = '1400002';
/** The sandbox library's 活动开始提醒 (server/adapters/sandbox/sandbox-messages.ts). */
export const SANDBOX_EVENT_REMINDER_TEMPLATE_ID = 'SBX_TPL_EVENT_REMINDER_0005';
/** The sandbox's after-event SMS template ({1} the title, {2} the text with its link). */
export const SANDBOX_SMS_RECAP_TEMPLATE_ID = '1400003';
/** The sandbox library's 活动回顾通知 (thing1 event, thing2 title, thing3 text): the recap and the survey invitation. */
export const SANDBOX_EVENT_RECAP_TEMPLATE_ID = 'SBX_TPL_EVENT_RECAP_0006';

export class ConfigError extends Error {}

/** Parses the environment; throws ConfigError naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv): Readonly<Config> {
  // An empty variable (`WECHAT_APPID=` copied from .env.example) means "not set".
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
  const parsed = envSchema.safeParse(present);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`Invalid configuration:\n  ${lines.join('\n  ')}`);
  }
  const e = parsed.data;

  const requireTogether = (names: (keyof typeof e)[]): void => {
    const set = names.filter((n) => e[n] !== undefined);
    if (set.length > 0 && set.length < names.length) {
      const missing = names.filter((n) => e[n] === undefined);
      throw new ConfigError(`Invalid configuration:\n  ${missing.join(', ')}: required when ${set.join(', ')} is set`);
    }
  };
  requireTogether(['WECHAT_APPID', 'WECHAT_SECRET', 'WECHAT_TOKEN', 'WECHAT_AES_KEY']);
  requireTogether(['WECOM_CORP_ID', 'WECOM_TOKEN', 'WECOM_AES_KEY', 'WECOM_SECRET']);
  requireTogether(['ADMIN_USERNAME', 'ADMIN_PASSWORD']);
  requireTogether(['CONTENT_S3_BUCKET', 'CONTENT_S3_ENDPOINT', 'CONTENT_S3_ACCESS_KEY_ID', 'CONTENT_S3_SECRET_ACCESS_KEY']);
  // Plain mode's bodies are unsigned: the replay guard remembers each signature for the freshness
  // window, so a window of "for ever" would leave a captured URL good for ever, or the guard keeping
  // every request it ever saw. Refused rather than quietly weakened.
  if (e.WECHAT_MESSAGE_MODE === 'plain' && e.CALLBACK_MAX_AGE_S === 0) {
    throw new ConfigError(
      'Invalid configuration:\n  CALLBACK_MAX_AGE_S: must be above 0 with WECHAT_MESSAGE_MODE=plain (a plaintext body is not signed; ' +
        'only the freshness window limits how long a captured signature can be used)',
    );
  }

  // After requireTogether, one variable of a group stands for the whole group.
  const hasOfficialAccount = e.WECHAT_APPID !== undefined;
  const hasWecom = e.WECOM_CORP_ID !== undefined;
  // auto: the sandbox only when neither platform is configured, and never in production. With
  // one platform configured, the sandbox is off and the other platform is disabled: a half-real
  // set-up must not quietly accept callbacks signed with the published sandbox keys.
  const production = e.NODE_ENV === 'production';
  const sandbox = e.SANDBOX === 'on' || (e.SANDBOX === 'auto' && !production && !hasOfficialAccount && !hasWecom);
  if (production && e.PASSWORD_SCRYPT_N < OWASP_SCRYPT_N) {
    throw new ConfigError(
      `Invalid configuration:\n  PASSWORD_SCRYPT_N: cannot be below ${OWASP_SCRYPT_N} (the OWASP minimum) with NODE_ENV=production`,
    );
  }
  if (e.SANDBOX === 'on' && production) {
    throw new ConfigError('Invalid configuration:\n  SANDBOX: cannot be on with NODE_ENV=production (the sandbox keys are public)');
  }
  // The sandbox's player (POST /sandbox/actions, unauthenticated) signs callbacks with whatever
  // keys the platforms have: with a real token or AES key it would sign real callbacks for anyone
  // who can reach it. Sandbox mode therefore runs on the published sandbox keys only.
  if (e.SANDBOX === 'on' && (hasOfficialAccount || hasWecom)) {
    const set = [hasOfficialAccount ? 'WECHAT_*' : null, hasWecom ? 'WECOM_*' : null].filter((n) => n !== null).join(' and ');
    throw new ConfigError(
      `Invalid configuration:\n  SANDBOX: cannot be on while ${set} credentials are set (the sandbox signs callbacks for anyone ` +
        'with the keys it has); unset them, or set SANDBOX=off',
    );
  }

  const s = SANDBOX_CREDENTIALS;
  const config: Config = {
    env: e.NODE_ENV,
    port: e.PORT,
    publicBaseUrl: (e.PUBLIC_BASE_URL ?? `http://localhost:${e.PORT}`).replace(/\/+$/, ''),
    database: e.DATABASE_URL.startsWith('sqlite:')
      ? { kind: 'sqlite', path: e.DATABASE_URL.slice('sqlite:'.length) }
      : { kind: 'mysql', url: e.DATABASE_URL },
    sandbox,
    officialAccount:
      hasOfficialAccount || sandbox
        ? {
            appId: e.WECHAT_APPID ?? s.wechatAppId,
            secret: e.WECHAT_SECRET ?? s.wechatSecret,
            token: e.WECHAT_TOKEN ?? s.wechatToken,
            aesKey: e.WECHAT_AES_KEY ?? s.wechatAesKey,
            // The Official Account always has an AES key here (WECHAT_AES_KEY is required with the
            // others, the sandbox has one), so the default is safe; plain is an explicit choice.
            messageMode: e.WECHAT_MESSAGE_MODE ?? 'safe',
          }
        : null,
    wecom:
      hasWecom || sandbox
        ? {
            corpId: e.WECOM_CORP_ID ?? s.wecomCorpId,
            token: e.WECOM_TOKEN ?? s.wecomToken,
            aesKey: e.WECOM_AES_KEY ?? s.wecomAesKey,
            secret: e.WECOM_SECRET ?? s.wecomSecret,
            // The app (sidebar) is optional; its client only calls out, so a missing one fails
            // its calls and never lets anything in.
            agentId: e.WECOM_AGENT_ID ?? s.wecomAgentId,
            agentSecret: e.WECOM_AGENT_SECRET ?? s.wecomAgentSecret,
          }
        : null,
    miniprogram: {
      appId: e.MINIPROGRAM_APPID ?? s.miniprogramAppId,
      secret: e.MINIPROGRAM_SECRET ?? s.miniprogramSecret,
      sessionTtlSeconds: e.MINIPROGRAM_SESSION_TTL_S,
      sessionSecret: e.MINIPROGRAM_SESSION_SECRET ?? null,
      rateLimits: { perSession: e.MP_RATE_PER_SESSION, perIp: e.MP_RATE_PER_IP, windowMs: 10 * 60 * 1000 },
    },
    wechatApiBase: e.WECHAT_API_BASE?.replace(/\/+$/, '') ?? null,
    wecomApiBase: e.WECOM_API_BASE?.replace(/\/+$/, '') ?? null,
    callbackMaxAgeSeconds: e.CALLBACK_MAX_AGE_S,
    bootstrapAdmin: e.ADMIN_USERNAME && e.ADMIN_PASSWORD ? { username: e.ADMIN_USERNAME, password: e.ADMIN_PASSWORD } : null,
    passwordScryptN: e.PASSWORD_SCRYPT_N,
    trustProxy: e.TRUST_PROXY,
    logLevel: e.LOG_LEVEL,
    businessTimeZone: e.BUSINESS_TIMEZONE,
    adminLocale: e.ADMIN_LOCALE,
    metricsToken: e.METRICS_TOKEN ?? null,
    importMaxBytes: e.IMPORT_MAX_BYTES,
    outbox: readOutbox(e),
    linkSecret: e.LINK_SECRET ?? null,
    sms: readSms(e, sandbox),
    pay: readPay(e, hasOfficialAccount ? (e.WECHAT_APPID ?? null) : sandbox ? s.wechatAppId : null),
    visitors: readVisitorConfig(e),
    events: {
      ticketSecret: e.TICKET_SECRET ?? null,
      smsCodeTemplateId: e.EVENT_SMS_CODE_TEMPLATE_ID ?? (sandbox ? SANDBOX_SMS_CODE_TEMPLATE_ID : null),
      rateLimits: { perIp: e.EVENT_RATE_PER_IP, perPhone: e.EVENT_RATE_PER_PHONE, windowMs: 10 * 60 * 1000 },
      reminder: {
        time: e.EVENT_REMINDER_TIME,
        oaTemplateId: e.EVENT_REMINDER_TEMPLATE_ID ?? (sandbox ? SANDBOX_EVENT_REMINDER_TEMPLATE_ID : null),
        mpTemplateId: e.EVENT_REMINDER_MP_TEMPLATE_ID ?? (sandbox ? SANDBOX_EVENT_REMINDER_TEMPLATE_ID : null),
        smsTemplateId: e.EVENT_REMINDER_SMS_TEMPLATE_ID ?? (sandbox ? SANDBOX_SMS_REMINDER_TEMPLATE_ID : null),
      },
      recap: {
        oaTemplateId: e.EVENT_RECAP_TEMPLATE_ID ?? (sandbox ? SANDBOX_EVENT_RECAP_TEMPLATE_ID : null),
        mpTemplateId: e.EVENT_RECAP_MP_TEMPLATE_ID ?? (sandbox ? SANDBOX_EVENT_RECAP_TEMPLATE_ID : null),
        smsTemplateId: e.EVENT_RECAP_SMS_TEMPLATE_ID ?? (sandbox ? SANDBOX_SMS_RECAP_TEMPLATE_ID : null),
      },
    },
    content: {
      dir: path.resolve(
        e.CONTENT_DIR ??
          (e.DATABASE_URL.startsWith('sqlite:')
            ? path.join(path.dirname(e.DATABASE_URL.slice('sqlite:'.length)), 'content')
            : './data/content'),
      ),
      maxUploadBytes: e.CONTENT_MAX_UPLOAD_MB * 1024 * 1024,
      s3: readS3StoreConfig(e),
    },
  };
  // As with the platforms: the sandbox's player signs payment notifications for anyone, so a real
  // merchant and sandbox mode never go together.
  if (sandbox && config.pay.merchant) {
    throw new ConfigError(
      'Invalid configuration:\n  SANDBOX: cannot be on while WECHATPAY_* credentials are set; unset them, or set SANDBOX=off',
    );
  }
  return deepFreeze(config);
}

function readOutbox(e: z.output<typeof envSchema>): OutboxConfig {
  try {
    return readOutboxConfig(e);
  } catch (error) {
    throw new ConfigError(`Invalid configuration:\n  ${error instanceof Error ? error.message : String(error)}`);
  }
}

function readSms(e: z.output<typeof envSchema>, sandbox: boolean): SmsConfig | null {
  try {
    return readSmsConfig(e, sandbox);
  } catch (error) {
    throw new ConfigError(`Invalid configuration:\n  ${error instanceof Error ? error.message : String(error)}`);
  }
}

function readPay(e: z.output<typeof envSchema>, defaultAppId: string | null): PayConfig {
  try {
    return readPayConfig(e, defaultAppId);
  } catch (error) {
    throw new ConfigError(`Invalid configuration:\n  ${error instanceof Error ? error.message : String(error)}`);
  }
}

function deepFreeze<T extends object>(value: T): Readonly<T> {
  for (const child of Object.values(value)) {
    if (child && typeof child === 'object') deepFreeze(child as object);
  }
  return Object.freeze(value);
}
