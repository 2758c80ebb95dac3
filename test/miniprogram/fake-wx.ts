/**
 * A stand-in for the mini-program's `wx` global: it records every call (API name and options) and
 * answers the way the base library does, through success/fail/complete callbacks on a later tick.
 * wx.request is answered from routes the test declares (`'GET /api/mp/events'`), wx.login with
 * fresh codes, wx.scanCode and wx.requestSubscribeMessage with what the test set. Any other API is
 * recorded and succeeds, so a page may call wx.showToast or wx.navigateTo without the test caring.
 */
export interface WxCall {
  api: string;
  options: Record<string, unknown>;
}

export interface SentRequest {
  method: string;
  /** The path and query, without the API base. */
  path: string;
  url: string;
  data: unknown;
  header: Record<string, string>;
}

/** An HTTP answer, or `{fail}`: the base library's `request:fail …` (no network, timeout). */
export type Answer = { status: number; body?: unknown } | { fail: string };
type Route = Answer | ((request: SentRequest) => Answer);

type Callbacks = {
  success?: (result: unknown) => void;
  fail?: (error: { errMsg: string }) => void;
  complete?: (result: unknown) => void;
};

export const API_BASE = 'http://127.0.0.1:3000';

const later = (fn: () => void): void => {
  setTimeout(fn, 0);
};

function callbacksOf(options: Record<string, unknown>): Callbacks {
  const pick = (name: string) => {
    const value = options[name];
    return typeof value === 'function' ? (result: unknown) => void Reflect.apply(value, undefined, [result]) : undefined;
  };
  return { success: pick('success'), fail: pick('fail'), complete: pick('complete') };
}

function succeed(options: Record<string, unknown>, result: unknown): void {
  const callbacks = callbacksOf(options);
  later(() => {
    callbacks.success?.(result);
    callbacks.complete?.(result);
  });
}

function fail(options: Record<string, unknown>, errMsg: string): void {
  const callbacks = callbacksOf(options);
  later(() => {
    callbacks.fail?.({ errMsg });
    callbacks.complete?.({ errMsg });
  });
}

export class FakeWx {
  readonly calls: WxCall[] = [];
  readonly storage = new Map<string, unknown>();
  private readonly routes = new Map<string, Route[]>();
  private loginCount = 0;
  /** What wx.scanCode reads next; null: the user closed the scanner. */
  scanResult: string | null = null;
  /** wx.requestSubscribeMessage's answer per template id, or `fail` for a refusal of the whole call. */
  subscribeAnswer: Record<string, string> | 'fail' = {};
  /** wx.login fails (no network to WeChat) while set. */
  loginFails = false;

  /**
   * Answers `METHOD /path` (query included when the call has one). Several answers are given in
   * turn, the last one repeating; a function answers from the request.
   */
  route(key: string, ...answers: Route[]): this {
    this.routes.set(key, answers);
    return this;
  }

  /** The calls made to one API, in order. */
  callsOf(api: string): Record<string, unknown>[] {
    return this.calls.filter((call) => call.api === api).map((call) => call.options);
  }

  /** The wx.request calls, as the server would have seen them. */
  requests(): SentRequest[] {
    return this.callsOf('request').map((options) => this.sentOf(options));
  }

  private sentOf(options: Record<string, unknown>): SentRequest {
    const url = String(options.url);
    const header = (options.header ?? {}) as Record<string, string>;
    return {
      method: typeof options.method === 'string' ? options.method : 'GET',
      path: url.startsWith(API_BASE) ? url.slice(API_BASE.length) : url,
      url,
      data: options.data,
      header,
    };
  }

  private answerOf(request: SentRequest): Answer {
    if (request.method === 'POST' && request.path === '/api/mp/login' && !this.routes.has('POST /api/mp/login')) {
      return { status: 200, body: { token: `token-${this.loginCount}` } };
    }
    const answers = this.routes.get(`${request.method} ${request.path}`);
    if (!answers || answers.length === 0) return { status: 404, body: { error: { code: 'not_found', message: 'Not found' } } };
    const route = answers.length > 1 ? answers.shift()! : answers[0];
    return typeof route === 'function' ? route(request) : route;
  }

  private handle(api: string, options: Record<string, unknown>): unknown {
    switch (api) {
      case 'request': {
        const answer = this.answerOf(this.sentOf(options));
        if ('fail' in answer) fail(options, answer.fail);
        else succeed(options, { statusCode: answer.status, data: answer.body ?? '', header: {}, errMsg: 'request:ok' });
        return { abort: () => undefined };
      }
      case 'login':
        this.loginCount += 1;
        if (this.loginFails) fail(options, 'login:fail network error');
        else succeed(options, { code: `wx-code-${this.loginCount}`, errMsg: 'login:ok' });
        return undefined;
      case 'scanCode':
        if (this.scanResult === null) fail(options, 'scanCode:fail cancel');
        else succeed(options, { result: this.scanResult, scanType: 'QR_CODE', charSet: 'utf-8', errMsg: 'scanCode:ok' });
        return undefined;
      case 'requestSubscribeMessage':
        if (this.subscribeAnswer === 'fail') fail(options, 'requestSubscribeMessage:fail can only be invoked by user TAP gesture.');
        else succeed(options, { ...this.subscribeAnswer, errMsg: 'requestSubscribeMessage:ok' });
        return undefined;
      case 'getAccountInfoSync':
        return { miniProgram: { appId: 'touristappid', envVersion: 'develop', version: '' } };
      case 'getStorageSync':
        return this.storage.get(String(options.key)) ?? '';
      case 'setStorageSync':
        this.storage.set(String(options.key), options.data);
        return undefined;
      case 'removeStorageSync':
        this.storage.delete(String(options.key));
        return undefined;
      default:
        succeed(options, { errMsg: `${api}:ok` });
        return undefined;
    }
  }

  /** The `wx` object pages see. Storage calls take positional arguments; the rest one options object. */
  api(): Record<string, (...args: unknown[]) => unknown> {
    const positional: Record<string, string[]> = {
      getStorageSync: ['key'],
      setStorageSync: ['key', 'data'],
      removeStorageSync: ['key'],
    };
    return new Proxy(
      {},
      {
        get: (_target, name) => {
          if (typeof name !== 'string') return undefined;
          return (...args: unknown[]) => {
            const names = positional[name];
            const options = names
              ? Object.fromEntries(names.map((key, i) => [key, args[i]]))
              : ((args[0] ?? {}) as Record<string, unknown>);
            this.calls.push({ api: name, options });
            return this.handle(name, options);
          };
        },
      },
    );
  }

  /** Makes this the global `wx`. */
  install(): this {
    Reflect.set(globalThis, 'wx', this.api());
    return this;
  }
}

/** Lets the fake's answers (each on a later tick) and the pages' awaits run to the end. */
export async function settle(rounds = 10): Promise<void> {
  for (let i = 0; i < rounds; i += 1) await new Promise<void>((resolve) => setTimeout(resolve, 0));
}
