import { createHash, timingSafeEqual } from 'node:crypto';
import type Router from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import type { SandboxState } from './sandbox-state';
import type { SandboxChatEntry, SandboxChatFail } from './sandbox-wecom-app';

/**
 * The WeCom client's JS bridge (window.WeixinJSBridge) for a browser in sandbox mode: the real
 * @wecom/jssdk runs in the sidebar and talks to the client only through
 * `WeixinJSBridge.invoke(name, params, callback)`; this script forwards each call to
 * `POST /sandbox/wecom/jsapi`, where the sandbox answers as the client would. Served at
 * /sandbox/wecom/jsbridge.js; outside sandbox mode the path does not exist.
 *
 * The real client checks wx.config (preVerifyJSAPI) and wx.agentConfig against the page it shows:
 * the script sends `location.href` without its `#` part, as the signature rule reads the URL
 * ("url（当前网页的URL，不包含#及其后面部分）"), and remembers whether agentConfig succeeded: the chat's
 * APIs need the app's identity ("本接口必须使用应用身份进行注册").
 * @link https://developer.work.weixin.qq.com/document/path/96909 (JS-SDK 签名算法)
 */
const JS_BRIDGE = `(function () {
  if (window.WeixinJSBridge) return;
  var agentConfigured = false;
  window.WeixinJSBridge = {
    invoke: function (name, params, callback) {
      var url = location.href.split('#')[0];
      fetch('/sandbox/wecom/jsapi', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: name, params: params || {}, url: url, agentConfigured: agentConfigured }),
      })
        .then(function (res) { return res.json(); })
        .then(
          function (answer) {
            if (name === 'agentConfig' && answer.err_msg === 'agentConfig:ok') agentConfigured = true;
            callback(answer);
          },
          function () { callback({ err_msg: name + ':fail the sandbox did not answer' }); }
        );
    },
    on: function () {},
  };
  document.dispatchEvent(new Event('WeixinJSBridgeReady'));
})();
`;

const jsapiCallSchema = z.object({
  name: z.string().min(1).max(64),
  params: z.record(z.string(), z.unknown()),
  url: z.string().max(4096),
  agentConfigured: z.boolean().default(false),
});
export type SandboxJsapiCall = z.input<typeof jsapiCallSchema>;

const controlChatSchema = z.object({
  externalUserId: z.string().min(1).max(64).nullable().optional(),
  entry: z.enum(['single_chat_tools', 'contact_profile', 'normal'] satisfies SandboxChatEntry[]).optional(),
  fail: z
    .enum(['no permission', 'without context of external contact', 'invalid signature'] satisfies SandboxChatFail[])
    .nullable()
    .optional(),
});

/** Registers the bridge script, its call endpoint and the chat's control on the sandbox's router. */
export function registerWecomJsbridge(router: Router, state: SandboxState): void {
  router.get('/sandbox/wecom/jsbridge.js', (ctx) => {
    ctx.type = 'application/javascript; charset=utf-8';
    ctx.set('Cache-Control', 'no-store');
    ctx.body = JS_BRIDGE;
  });

  router.post('/sandbox/wecom/jsapi', async (ctx) => {
    const input = jsapiCallSchema.safeParse(await readJsonBody(ctx));
    if (!input.success) {
      ctx.status = 400;
      ctx.body = { err_msg: 'invoke:fail send {name, params, url, agentConfigured}' };
      return;
    }
    state.recordCall(`jsapi/${input.data.name}`, { url: input.data.url, params: input.data.params });
    ctx.body = answerJsapi(state, input.data);
  });

  // The rep's current chat: who the customer is, where the page was opened from, what fails.
  router.post('/sandbox/control/wecom-chat', async (ctx) => {
    const input = controlChatSchema.safeParse(await readJsonBody(ctx));
    if (!input.success) {
      ctx.status = 400;
      ctx.body = {
        ok: false,
        error:
          "send {externalUserId?, entry?: 'single_chat_tools'|'contact_profile'|'normal', fail?: 'no permission'|'without context of external contact'|'invalid signature'|null}",
        code: 'sandbox_bad_request',
        params: {},
      };
      return;
    }
    const chat = state.wecomApp.chat;
    state.wecomApp.chat = {
      externalUserId: input.data.externalUserId === undefined ? chat.externalUserId : input.data.externalUserId,
      entry: input.data.entry ?? chat.entry,
      fail: input.data.fail === undefined ? chat.fail : input.data.fail,
    };
    ctx.body = { ok: true, ...state.wecomApp.chat };
  });
  router.get('/sandbox/control/wecom-chat', (ctx) => {
    ctx.body = { ...state.wecomApp.chat, messages: state.wecomApp.chatMessages };
  });
}

/** What the client answers one JSAPI call with: `{err_msg: '<name>:ok' | '<name>:fail <reason>', ...}`. */
export function answerJsapi(state: SandboxState, call: z.output<typeof jsapiCallSchema>): Record<string, unknown> {
  const { name, params } = call;
  const { chat } = state.wecomApp;
  const fail = (reason: string) => ({ err_msg: `${name}:fail ${reason}` });
  const ok = (fields: Record<string, unknown> = {}) => ({ err_msg: `${name}:ok`, ...fields });

  if (name === 'preVerifyJSAPI' || name === 'agentConfig') {
    const corp = name === 'preVerifyJSAPI';
    const appId = corp ? params.verifyAppId : params.corpid;
    if (appId !== state.wecom.corpId) return fail('invalid corpid');
    if (!corp && String(params.agentid) !== state.wecom.agentId) return fail('invalid agentid');
    if (chat.fail === 'invalid signature') return fail('invalid signature');
    const signed = {
      timestamp: String(corp ? params.verifyTimestamp : params.timestamp),
      nonceStr: String(corp ? params.verifyNonceStr : params.nonceStr),
      signature: String(corp ? params.verifySignature : params.signature),
    };
    // wx.config with the corp's jsapi_ticket, wx.agentConfig with the app's: the other one never verifies.
    const tickets = state.liveTickets(corp ? 'wecom-jsapi' : 'wecom-agent-config');
    const verified = tickets.some((ticket) => equalHex(signed.signature, sign(ticket, signed.nonceStr, signed.timestamp, call.url)));
    return verified ? ok() : fail('invalid signature');
  }

  const chatApis = new Set(['getContext', 'getCurExternalContact', 'sendChatMessage']);
  if (!chatApis.has(name)) return fail('not played by the sandbox');
  if (!call.agentConfigured || chat.fail === 'no permission') return fail('no permission');
  if (name === 'getContext') return ok({ entry: chat.entry, shareTicket: '' });
  if (chat.fail === 'without context of external contact' || chat.entry === 'normal' || chat.externalUserId === null)
    return fail('without context of external contact');
  if (name === 'getCurExternalContact') return ok({ userId: chat.externalUserId });

  const refusal = checkChatMessage(params);
  if (refusal !== null) return fail(refusal);
  const msgtype = String(params.msgtype);
  state.wecomApp.recordChatMessage({ msgtype, payload: params[msgtype] });
  return ok();
}

/**
 * What sendChatMessage refuses, as the reason the client gives, or null. "msgtype 消息类型，必填":
 * text (text.content), image (image.mediaId), news (news.link, title, desc, imgUrl) and
 * miniprogram (appid 必填; "page 小程序消息打开后的路径，注意要以.html作为后缀，否则在微信端打开会提示找不到页面";
 * imgUrl, whose refusal is documented as `invalid imgUrl`).
 * @link https://developer.work.weixin.qq.com/document/path/94354 (分享消息到当前会话)
 */
function checkChatMessage(params: Record<string, unknown>): string | null {
  const msgtype = params.msgtype;
  const body = typeof msgtype === 'string' ? params[msgtype] : undefined;
  const text = (key: string): string => {
    if (typeof body !== 'object' || body === null) return '';
    const value: unknown = (body as Record<string, unknown>)[key];
    return typeof value === 'string' ? value : '';
  };
  switch (msgtype) {
    case 'text':
      return text('content') === '' ? 'invalid content' : null;
    case 'image':
      return text('mediaId') === '' ? 'invalid mediaId' : null;
    case 'news':
      if (!/^https?:\/\//.test(text('link'))) return 'invalid link';
      return text('title') === '' ? 'invalid title' : null;
    case 'miniprogram':
      if (text('appid') === '') return 'invalid appid';
      if (!/^[^?#]+\.html(\?.*)?$/.test(text('page'))) return 'invalid page';
      return text('imgUrl') === '' ? 'invalid imgUrl' : null;
    default:
      return 'invalid msgtype';
  }
}

function sign(ticket: string, nonceStr: string, timestamp: string, url: string): string {
  return createHash('sha1').update(`jsapi_ticket=${ticket}&noncestr=${nonceStr}&timestamp=${timestamp}&url=${url}`).digest('hex');
}

function equalHex(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

async function readJsonBody(ctx: Context): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > 64 * 1024) return null;
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch {
    return null;
  }
}
