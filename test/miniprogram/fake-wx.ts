/**
 * A stand-in for the mini-program's `wx` global: it records every call (API name and options) and
 * answers the way the base library does, through success/fail/complete callbacks on a later tick.
 * wx.request is answered from routes the test declares (`'GET /api/mp/events'`), wx.login with
 * fresh codes, wx.scanCode, wx.requestSubscribeMessage and wx.requestPayment with what the test set.
 * Any other API is recorded and succeeds, so a page may call wx.showToast or wx.navigateTo without
 * the test caring.
 *
 * Given a `LiveServer`, the same fake stands in front of a real server: wx.request is a real HTTP
 * request to it (its origin set as config.ts's develop override), wx.login's code is one the
 * server's code2Session accepts, and wx.requestPayment does what WeChat's client does with the
 * pay-sign. `idle()` waits for that real traffic.
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

/** A real server behind the fake (test/miniprogram/against-server.test.ts). */
export interface LiveServer {
  /** The server's origin. */
  baseUrl: string;
  /** A wx.login code the server's code2Session accepts. */
  loginCode(): Promise<string>;
  /** wx.requestPayment's parameters paid as WeChat's client pays them: `null` for ok, else the errMsg. */
  requestPayment(params: Record<string, unknown>): Promise<string | null>;
}

/** config.ts's develop-only override of the API base (tests reach a test server on its own port). */
const API_BASE_OVERRIDE_KEY = 'fw:apiBase';

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
  /** wx.requestPayment's outcome: paid, the sheet closed by the user, or a failure. */
  payAnswer: 'ok' | 'cancel' | 'fail' = 'ok';
  /** Live work (real requests, codes, payments) not yet answered. */
  private inFlight = 0;

  constructor(private readonly live: LiveServer | null = null) {}

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
      path: url.startsWith(this.base) ? url.slice(this.base.length) : url,
      url,
      data: options.data,
      header,
    };
  }

  private get base(): string {
    return this.live?.baseUrl ?? API_BASE;
  }

  /** Answers the call when `work` settles: the base library's success (its result) or fail (`{fail: errMsg}`). */
  private answerWhen(options: Record<string, unknown>, work: () => Promise<unknown>): void {
    this.inFlight += 1;
    work()
      .then((result) => {
        if (typeof result === 'object' && result !== null && 'fail' in result) fail(options, String(result.fail));
        else succeed(options, result);
      })
      .catch((error: unknown) => fail(options, `fail ${error instanceof Error ? error.message : String(error)}`))
      .finally(() => {
        this.inFlight -= 1;
      });
  }

  /** wx.request to the live server, over HTTP. */
  private async send(live: LiveServer, sent: SentRequest, options: Record<string, unknown>): Promise<unknown> {
    const body = sent.method === 'GET' || options.data === undefined ? undefined : JSON.stringify(options.data);
    let response: Response;
    try {
      response = await fetch(`${live.baseUrl}${sent.path}`, { method: sent.method, headers: sent.header, body });
    } catch (error) {
      return { fail: `request:fail ${error instanceof Error ? error.message : String(error)}` };
    }
    const text = await response.text();
    let data: unknown = text;
    try {
      data = text === '' ? '' : (JSON.parse(text) as unknown);
    } catch {
      // Not JSON: wx.request hands over the text as it came.
    }
    return { statusCode: response.status, data, header: Object.fromEntries(response.headers), errMsg: 'request:ok' };
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
        const live = this.live;
        if (live) {
          this.answerWhen(options, () => this.send(live, this.sentOf(options), options));
          return { abort: () => undefined };
        }
        const answer = this.answerOf(this.sentOf(options));
        if ('fail' in answer) fail(options, answer.fail);
        else succeed(options, { statusCode: answer.status, data: answer.body ?? '', header: {}, errMsg: 'request:ok' });
        return { abort: () => undefined };
      }
      case 'login':
        this.loginCount += 1;
        if (this.loginFails) fail(options, 'login:fail network error');
        else if (this.live) {
          const live = this.live;
          this.answerWhen(options, async () => ({ code: await live.loginCode(), errMsg: 'login:ok' }));
        } else succeed(options, { code: `wx-code-${this.loginCount}`, errMsg: 'login:ok' });
        return undefined;
      case 'scanCode':
        if (this.scanResult === null) fail(options, 'scanCode:fail cancel');
        else succeed(options, { result: this.scanResult, scanType: 'QR_CODE', charSet: 'utf-8', errMsg: 'scanCode:ok' });
        return undefined;
      case 'requestSubscribeMessage':
        if (this.subscribeAnswer === 'fail') fail(options, 'requestSubscribeMessage:fail can only be invoked by user TAP gesture.');
        else succeed(options, { ...this.subscribeAnswer, errMsg: 'requestSubscribeMessage:ok' });
        return undefined;
      case 'requestPayment': {
        const live = this.live;
        if (live) {
          this.answerWhen(options, async () => {
            const failure = await live.requestPayment(options);
            return failure === null ? { errMsg: 'requestPayment:ok' } : { fail: failure };
          });
        } else if (this.payAnswer === 'ok') succeed(options, { errMsg: 'requestPayment:ok' });
        // What the base library says when the user closes the sheet, and for a failure of WeChat Pay.
        else fail(options, this.payAnswer === 'cancel' ? 'requestPayment:fail cancel' : 'requestPayment:fail system error');
        return undefined;
      }
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

  /** Makes this the global `wx` (pointing the pages at the live server, when there is one). */
  install(): this {
    if (this.live) this.storage.set(API_BASE_OVERRIDE_KEY, this.live.baseUrl);
    Reflect.set(globalThis, 'wx', this.api());
    return this;
  }

  /** Waits until the live work the pages started (and what its answers started) is done. */
  async idle(timeoutMs = 15_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    for (let quiet = 0; quiet < 2;) {
      if (Date.now() > until) throw new Error('the pages are still waiting for the server');
      await settle();
      quiet = this.inFlight === 0 ? quiet + 1 : 0;
      if (this.inFlight > 0) await new Promise<void>((resolve) => setTimeout(resolve, 10));
    }
  }
}

/** Lets the fake's answers (each on a later tick) and the pages' awaits run to the end. */
export async function settle(rounds = 10): Promise<void> {
  for (let i = 0; i < rounds; i += 1) await new Promise<void>((resolve) => setTimeout(resolve, 0));
}
