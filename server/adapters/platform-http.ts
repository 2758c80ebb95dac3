import axios, { type AxiosInstance } from 'axios';
import type { z } from 'zod';
import { isAccessTokenErrcode } from '../wechat/errcode';
import type { Logger } from './logger';
import { PlatformApiError, PlatformTransportError } from './platform-error';
import type { RateLimiter } from './rate-limiter';
import type { FetchedToken, TokenStore } from './token-store';

/** The real hosts; WECHAT_API_BASE / WECOM_API_BASE replace them for the sandbox and tests. */
export const WECHAT_API_BASE_DEFAULT = 'https://api.weixin.qq.com';
export const WECOM_API_BASE_DEFAULT = 'https://qyapi.weixin.qq.com';

/** Where a call gets its access_token: the shared store key and how to fetch a new one. */
export interface AccessTokenSource {
  key: string;
  /** forceRefresh is true only after the platform rejected (not merely expired) the stored token and we cleared it. */
  fetch(params: { forceRefresh: boolean }): Promise<FetchedToken>;
}

export interface PlatformCallParams<T> {
  method: 'GET' | 'POST';
  /** Appended to baseUrl, e.g. `/cgi-bin/user/info`. */
  path: string;
  query?: Record<string, string>;
  body?: unknown;
  /** Omitted for calls that authenticate otherwise (token endpoints, jscode2session). */
  accessToken?: AccessTokenSource;
  /** The documented success shape; errcode/errmsg are checked before it. */
  schema: z.ZodType<T>;
  /**
   * errcodes whose answer is an outcome the caller reads, not a failure: the answer is parsed by
   * `schema` and returned (mass/sendall's 45065 carries the earlier send's msg_id).
   */
  answeredErrcodes?: readonly number[];
}

export interface PlatformBytesParams {
  method: 'GET' | 'POST';
  /** Appended to baseUrl; or `url`, an absolute address the platform gave us (a contact way's qr_code). */
  path?: string;
  url?: string;
  query?: Record<string, string>;
  body?: unknown;
  accessToken?: AccessTokenSource;
}

export interface PlatformHttp {
  /** `api` names the call in errors, logs and rate limits (e.g. `user/info`). */
  call<T>(api: string, params: PlatformCallParams<T>): Promise<T>;
  /**
   * A call answered with bytes (a QR code's PNG) on success and with `{errcode, errmsg}` JSON on
   * failure, as showqrcode and wxa/getwxacodeunlimit are: "如果调用成功，会直接返回图片二进制内容，
   * 如果请求失败，会返回 JSON 格式的数据". The same token refresh as `call`.
   */
  fetchBytes(api: string, params: PlatformBytesParams): Promise<{ contentType: string; bytes: Buffer }>;
}

export interface CreatePlatformHttpParams {
  baseUrl: string;
  timeoutMs?: number;
  rateLimiter: RateLimiter;
  logger: Logger;
  /** Needed only by calls that pass `accessToken`. */
  tokenStore?: TokenStore;
}

const DEFAULT_TIMEOUT_MS = 10_000;

/**
 * The one HTTP road to WeChat, WeCom and the mini-program APIs. It injects the shared
 * access_token, turns `{errcode, errmsg}` into PlatformApiError and transport trouble into
 * PlatformTransportError, and on an access-token errcode (40001/40014/42001) clears the stored
 * token, fetches a new one and retries once: "access_token 是公众号的全局唯一接口调用凭据 ...
 * 重复获取将导致上次获取的 access_token 失效" — a second rejection is surfaced, not looped on.
 * Logs carry the api name, status and timing only: never the URL (its query holds access_token
 * or secret), the body, or the answer.
 */
export function createPlatformHttp(params: CreatePlatformHttpParams): PlatformHttp {
  const baseUrl = params.baseUrl.replace(/\/+$/, '');
  const http: AxiosInstance = axios.create({
    timeout: params.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    // The body is parsed here, so a JSON answer served as text/plain (WeChat does) still parses.
    responseType: 'text',
    transformResponse: [(data: unknown) => data],
    validateStatus: () => true,
    maxRedirects: 0,
  });
  const { rateLimiter, logger, tokenStore } = params;

  const send = async (api: string, call: PlatformCallParams<unknown>, accessToken: string | null): Promise<unknown> => {
    await rateLimiter.acquire(api);
    const query = accessToken === null ? { ...call.query } : { ...call.query, access_token: accessToken };
    const started = Date.now();
    let response;
    try {
      response = await http.request<string>({
        method: call.method,
        url: `${baseUrl}${call.path}`,
        params: query,
        ...(call.method === 'POST' ? { data: JSON.stringify(call.body ?? {}), headers: { 'Content-Type': 'application/json' } } : {}),
      });
    } catch (error) {
      const transport = toTransportError(api, error);
      logger.warn('platform call failed', { api, failure: transport.failure, ms: Date.now() - started });
      throw transport;
    }
    logger.debug('platform call', { api, status: response.status, ms: Date.now() - started });
    if (response.status < 200 || response.status >= 300) {
      throw new PlatformTransportError(api, 'http_status', `HTTP ${response.status}`, response.status);
    }
    try {
      return JSON.parse(response.data) as unknown;
    } catch {
      throw new PlatformTransportError(api, 'bad_response', 'the answer is not JSON');
    }
  };

  const readToken = async (source: AccessTokenSource, forceRefresh: boolean): Promise<string> => {
    if (!tokenStore) throw new Error('createPlatformHttp needs a tokenStore for calls with an access token');
    return tokenStore.getToken(source.key, () => source.fetch({ forceRefresh }));
  };

  const sendBytes = async (
    api: string,
    call: PlatformBytesParams,
    accessToken: string | null,
  ): Promise<{ contentType: string; bytes: Buffer; json: unknown }> => {
    await rateLimiter.acquire(api);
    const query = accessToken === null ? { ...call.query } : { ...call.query, access_token: accessToken };
    const started = Date.now();
    let response;
    try {
      response = await http.request<ArrayBuffer>({
        method: call.method,
        url: call.url ?? `${baseUrl}${call.path ?? ''}`,
        params: query,
        responseType: 'arraybuffer',
        ...(call.method === 'POST' ? { data: JSON.stringify(call.body ?? {}), headers: { 'Content-Type': 'application/json' } } : {}),
      });
    } catch (error) {
      const transport = toTransportError(api, error);
      logger.warn('platform call failed', { api, failure: transport.failure, ms: Date.now() - started });
      throw transport;
    }
    logger.debug('platform call', { api, status: response.status, ms: Date.now() - started });
    if (response.status < 200 || response.status >= 300) {
      throw new PlatformTransportError(api, 'http_status', `HTTP ${response.status}`, response.status);
    }
    const bytes = Buffer.from(response.data);
    const contentType = String(response.headers['content-type'] ?? '');
    // An error is JSON (served as application/json or text/plain); an image never starts with `{`.
    if (contentType.includes('json') || bytes.subarray(0, 1).toString() === '{') {
      try {
        return { contentType, bytes, json: JSON.parse(bytes.toString('utf8')) as unknown };
      } catch {
        throw new PlatformTransportError(api, 'bad_response', 'the answer is neither an image nor JSON');
      }
    }
    return { contentType, bytes, json: null };
  };

  return {
    async fetchBytes(api, call) {
      const source = call.accessToken;
      let token = source ? await readToken(source, false) : null;
      let answer = await sendBytes(api, call, token);
      let errcode = answer.json === null ? 0 : readErrcode(answer.json);
      if (source && token !== null && errcode !== 0 && isAccessTokenErrcode(errcode)) {
        logger.warn('platform rejected the access token; refreshing once', { api, errcode });
        const cleared = await tokenStore?.invalidate(source.key, token);
        token = await readToken(source, cleared === true && errcode !== 42001);
        answer = await sendBytes(api, call, token);
        errcode = answer.json === null ? 0 : readErrcode(answer.json);
      }
      if (errcode !== 0) throw new PlatformApiError(api, errcode, readErrmsg(answer.json));
      if (answer.json !== null) throw new PlatformTransportError(api, 'bad_response', 'expected an image, got JSON');
      return { contentType: answer.contentType, bytes: answer.bytes };
    },

    async call<T>(api: string, call: PlatformCallParams<T>): Promise<T> {
      const source = call.accessToken;
      let token = source ? await readToken(source, false) : null;
      let answer = await send(api, call, token);
      let errcode = readErrcode(answer);
      if (source && token !== null && errcode !== 0 && isAccessTokenErrcode(errcode)) {
        logger.warn('platform rejected the access token; refreshing once', { api, errcode });
        const cleared = await tokenStore?.invalidate(source.key, token);
        // An expired token (42001) is replaced by a normal fetch; a rejected one (40001/40014)
        // may still be what the platform's normal mode hands out, so only then is it forced.
        token = await readToken(source, cleared === true && errcode !== 42001);
        answer = await send(api, call, token);
        errcode = readErrcode(answer);
      }
      if (errcode !== 0 && !(call.answeredErrcodes ?? []).includes(errcode)) {
        throw new PlatformApiError(api, errcode, readErrmsg(answer));
      }
      const parsed = call.schema.safeParse(answer);
      if (!parsed.success) {
        const where = parsed.error.issues[0]?.path.join('.') ?? '';
        throw new PlatformTransportError(api, 'bad_response', `the answer does not have the documented shape (${where || 'root'})`);
      }
      return parsed.data;
    },
  };
}

/** Success answers either omit errcode or send 0. */
function readErrcode(answer: unknown): number {
  if (typeof answer !== 'object' || answer === null || !('errcode' in answer)) return 0;
  const code = answer.errcode;
  if (typeof code === 'number') return code;
  if (typeof code === 'string' && /^-?\d+$/.test(code)) return Number(code);
  return 0;
}

function readErrmsg(answer: unknown): string {
  if (typeof answer === 'object' && answer !== null && 'errmsg' in answer && typeof answer.errmsg === 'string') {
    return answer.errmsg;
  }
  return '';
}

function toTransportError(api: string, error: unknown): PlatformTransportError {
  if (axios.isAxiosError(error)) {
    const code = error.code ?? '';
    if (code === 'ECONNABORTED' || code === 'ETIMEDOUT' || code === axios.AxiosError.ETIMEDOUT) {
      return new PlatformTransportError(api, 'timeout', 'no answer within the timeout');
    }
    return new PlatformTransportError(api, 'network', code || 'the request could not be sent');
  }
  return new PlatformTransportError(api, 'network', error instanceof Error ? error.name : 'unknown failure');
}
