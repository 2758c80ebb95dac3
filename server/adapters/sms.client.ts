import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { sms } from 'tencentcloud-sdk-nodejs-sms';
import type { SendSmsRequest, SendSmsResponse } from 'tencentcloud-sdk-nodejs-sms/tencentcloud/services/sms/v20210111/sms_models';
import { PlatformTransportError } from './platform-error';

export interface SmsClientParams {
  secretId: string;
  secretKey: string;
  sdkAppId: string;
  signName: string;
  region: string;
  /** `https://sms.tencentcloudapi.com`, or the sandbox's `http://sms.localhost:<port>/sandbox/sms`. */
  endpoint: string;
  /** How long a request may take before it is given up (its outcome is then unknown). */
  timeoutMs?: number;
}

export interface SmsSendInput {
  /** E.164: `+8613812345678`. */
  phone: string;
  templateId: string;
  params: string[];
  /** Echoed back by the platform and kept with its record: the outbox row's key, for tracing. */
  sessionContext: string;
}

export interface SmsSendResult {
  /** The platform's id of the message (SendStatus.SerialNo). */
  serialNo: string;
  /** Billed units (a long message counts several). */
  fee: number;
  requestId: string;
}

/**
 * The platform answered and refused: the whole request (Response.Error: `AuthFailure.SignatureFailure`,
 * `FailedOperation.TemplateIncorrectOrUnapproved` ...) or the one number (SendStatus.Code:
 * `LimitExceeded.PhoneNumberDailyLimit` ...). Either way nothing was sent.
 */
export class SmsRefusedError extends Error {
  constructor(
    readonly code: string,
    readonly detail: string,
    readonly scope: 'request' | 'number',
    readonly requestId: string,
  ) {
    super(`SendSms refused with ${code}: ${detail}`);
    this.name = 'SmsRefusedError';
  }
}

const API = 'sms/SendSms';
const DEFAULT_TIMEOUT_MS = 10_000;

/**
 * Tencent Cloud SMS through its official client (tencentcloud-sdk-nodejs-sms, API 2021-01-11): it
 * signs each request (TC3-HMAC-SHA256) with the SecretKey, which never leaves this object. Errors
 * come out as SmsRefusedError (the platform answered no) or PlatformTransportError (no usable
 * answer: SMS has no idempotency key, so the caller must treat any but a refused connection as
 * possibly sent).
 * @link https://cloud.tencent.com/document/api/382/55981 (SendSms)
 */
export class SmsClient {
  readonly sdkAppId: string;
  private readonly client: InstanceType<typeof sms.v20210111.Client>;
  private readonly signName: string;
  private readonly agent: http.Agent;

  constructor(p: SmsClientParams) {
    this.sdkAppId = p.sdkAppId;
    this.signName = p.signName;
    const url = new URL(p.endpoint);
    this.agent = agentFor(url);
    const protocol = url.protocol === 'http:' ? 'http://' : 'https://';
    this.client = new sms.v20210111.Client({
      credential: { secretId: p.secretId, secretKey: p.secretKey },
      region: p.region,
      profile: {
        signMethod: 'TC3-HMAC-SHA256',
        httpProfile: {
          reqMethod: 'POST',
          protocol,
          // host[:port][/path]: the SDK appends "/" and signs the service named by the host's first label.
          endpoint: `${url.host}${url.pathname.replace(/\/+$/, '')}`,
          reqTimeout: (p.timeoutMs ?? DEFAULT_TIMEOUT_MS) / 1000,
          agent: this.agent,
        },
      },
    });
  }

  /** Sends one message to one number; resolves when the platform accepted it. */
  async sendSms(input: SmsSendInput): Promise<SmsSendResult> {
    const request: SendSmsRequest = {
      PhoneNumberSet: [input.phone],
      SmsSdkAppId: this.sdkAppId,
      SignName: this.signName,
      TemplateId: input.templateId,
      TemplateParamSet: input.params,
      SessionContext: input.sessionContext,
    };
    let response: SendSmsResponse;
    try {
      response = await this.client.SendSms(request);
    } catch (error) {
      throw toSmsError(error);
    }
    const requestId = response.RequestId ?? '';
    const status = response.SendStatusSet?.[0];
    // An answer without its status line says nothing of whether the message left.
    if (!status || typeof status.Code !== 'string') throw new PlatformTransportError(API, 'bad_response', 'no SendStatusSet in the answer');
    if (status.Code !== 'Ok') throw new SmsRefusedError(status.Code, status.Message ?? '', 'number', requestId);
    return { serialNo: status.SerialNo ?? '', fee: status.Fee ?? 0, requestId };
  }

  /** Closes the kept-alive connections (at shutdown). */
  close(): void {
    this.agent.destroy();
  }
}

/**
 * The SDK's TencentCloudSDKHttpException (not exported by it) carries `code` when the platform
 * answered Response.Error and `httpCode` for a non-200 answer; without either it wraps node-fetch's
 * failure (timeout, connection), whose message names the cause.
 */
function toSmsError(error: unknown): Error {
  if (!(error instanceof Error)) return new PlatformTransportError(API, 'network', String(error));
  const e = error as Error & { code?: unknown; httpCode?: unknown; requestId?: unknown; type?: unknown };
  if (typeof e.code === 'string' && e.code !== '' && !/^E[A-Z]+$/.test(e.code))
    return new SmsRefusedError(e.code, e.message, 'request', typeof e.requestId === 'string' ? e.requestId : '');
  if (typeof e.httpCode === 'number') return new PlatformTransportError(API, 'http_status', `HTTP ${e.httpCode}`, e.httpCode);
  if (e.type === 'invalid-json' || error instanceof SyntaxError) return new PlatformTransportError(API, 'bad_response', e.message);
  if (/timeout/i.test(e.message)) return new PlatformTransportError(API, 'timeout', e.message);
  return new PlatformTransportError(API, 'network', e.message);
}

/**
 * Connections are kept alive. Names under `.localhost` are loopback (RFC 6761) but Node's resolver
 * does not know it: the sandbox is reached as `sms.localhost`, so that the SDK signs for `sms`.
 */
function agentFor(url: URL): http.Agent {
  const loopback = url.hostname === 'localhost' || url.hostname.endsWith('.localhost');
  const lookup: LookupFunction | undefined = loopback
    ? (_hostname, options, callback) => {
        if (options.all) (callback as (e: null, a: dns.LookupAddress[]) => void)(null, [{ address: '127.0.0.1', family: 4 }]);
        else callback(null, '127.0.0.1', 4);
      }
    : undefined;
  const options = { keepAlive: true, ...(lookup ? { lookup } : {}) };
  return url.protocol === 'http:' ? new http.Agent(options) : new https.Agent(options);
}
