import { describeErrcode } from '../wechat/errcode';

/**
 * errcodes after which the same call may succeed later: "-1 系统繁忙，此时请开发者稍候再试" and
 * 45011 "API 调用太频繁，请稍候再试". 45009 (daily quota) is not here: it only resets at midnight,
 * so retrying burns attempts for nothing.
 * @link https://developers.weixin.qq.com/doc/offiaccount/Getting_Started/Global_Return_Code.html
 */
const RETRYABLE_ERRCODES: ReadonlySet<number> = new Set([-1, 45011]);

/** The platform answered, with a nonzero errcode. */
export class PlatformApiError extends Error {
  readonly meaning: string;

  constructor(
    readonly api: string,
    readonly errcode: number,
    readonly errmsg: string,
  ) {
    const meaning = describeErrcode(errcode);
    super(`${api} failed with errcode ${errcode} (${meaning}): ${redactCredentials(errmsg)}`);
    this.name = 'PlatformApiError';
    this.meaning = meaning;
  }

  get retryable(): boolean {
    return RETRYABLE_ERRCODES.has(this.errcode);
  }
}

export type PlatformTransportFailure = 'timeout' | 'network' | 'http_status' | 'bad_response';

/**
 * The platform did not answer usably: no connection, a timeout, a 5xx, or a body that is not the
 * documented JSON. The underlying axios error is deliberately not kept as `cause`: its config holds
 * the URL with access_token (or secret) in the query, and loggers serialise causes.
 */
export class PlatformTransportError extends Error {
  constructor(
    readonly api: string,
    readonly failure: PlatformTransportFailure,
    detail: string,
    readonly httpStatus: number | null = null,
  ) {
    super(`${api} ${failure.replace('_', ' ')}: ${redactCredentials(detail)}`);
    this.name = 'PlatformTransportError';
  }

  /**
   * The connection was refused, so no byte of the request reached the platform: the one transport
   * failure after which a send is known not to have happened (the outbox may send it again).
   */
  get refusedBeforeSending(): boolean {
    return this.failure === 'network' && /ECONNREFUSED/.test(this.message);
  }

  /** Timeouts, lost connections, 5xx and 429 pass; a 4xx or a malformed body will not improve by retrying. */
  get retryable(): boolean {
    if (this.failure === 'timeout' || this.failure === 'network') return true;
    if (this.failure === 'http_status') return this.httpStatus === 429 || (this.httpStatus ?? 0) >= 500;
    return false;
  }
}

/**
 * A platform lookup that enriches but is not essential (a profile, a unionid): a permanent refusal
 * (the user unfollowed, no permission) is logged and the caller goes on without it (null); a
 * transient failure is thrown, so the work is retried later.
 */
export async function fetchOptional<T>(
  logger: { warn(message: string, fields?: Record<string, unknown>): void },
  fetch: () => Promise<T>,
): Promise<T | null> {
  try {
    return await fetch();
  } catch (error) {
    if (error instanceof PlatformApiError && !error.retryable) {
      logger.warn('platform lookup refused; continuing without it', { api: error.api, errcode: error.errcode });
      return null;
    }
    throw error;
  }
}

const CREDENTIAL_PARAMS = /\b(access_token|secret|corpsecret|appsecret|session_key|js_code|code)=[^&\s"]*/gi;

/** Platform errmsg sometimes echoes request parameters; never let a credential into a message. */
export function redactCredentials(text: string): string {
  return text.replace(CREDENTIAL_PARAMS, (_match, name: string) => `${name}=***`);
}
