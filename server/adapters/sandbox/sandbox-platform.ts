import { randomBytes, randomUUID } from 'node:crypto';
import http from 'node:http';
import Router from '@koa/router';
import Koa, { type Context } from 'koa';
import { z } from 'zod';
import type { Config, OfficialAccountMessageMode } from '../../../config/config.schema';
import { SMS_SANDBOX_CREDENTIALS } from '../../../config/sms.config';
import { systemClock, type Clock } from '../clock';
import {
  createSandboxPlayer,
  runSandboxAction,
  sandboxActionSchema,
  SandboxActionError,
  type SandboxErrorCode,
  type SandboxPlayer,
} from './sandbox-player';
import { SANDBOX_TEMPLATE_LIBRARY, type SandboxSubscribeApi } from './sandbox-messages';
import { SandboxErrcode } from './sandbox-errcode';
import { randomOpenid, SandboxState, type SandboxTokenOwner } from './sandbox-state';
import { SandboxSms, SandboxSmsError, type SandboxSmsAccount } from './sandbox-sms';
import { verifyTc3Request } from './tc3-signature';
import { SandboxPay } from './sandbox-pay';
import { SANDBOX_DEFAULT_MEMBER } from './sandbox-wecom-app';
import { registerWecomJsbridge } from './sandbox-wecom-jsbridge';
import { processSandboxPayKeys, type SandboxPayKeys } from './sandbox-pay-keys';

export interface CreateSandboxPlatformParams {
  /**
   * token and aesKey are needed only to play callbacks (POST /sandbox/actions); messageMode is the
   * console's setting, what the played callbacks look like (default safe, as Flywheel's default).
   */
  officialAccount: { appId: string; secret: string; token?: string; aesKey?: string; messageMode?: OfficialAccountMessageMode };
  wecom: { corpId: string; secret: string; agentId: string; agentSecret: string; token?: string; aesKey?: string };
  miniprogram: { appId: string; secret: string };
  /** The Tencent Cloud SMS account it accepts (default: the published sandbox account, config/sms.config.ts). */
  sms?: SandboxSmsAccount;
  /**
   * The time signatures are checked against (X-TC-Timestamp within 5 minutes): the machine's, not
   * `clock`, which sandbox mode moves forward while the SDK stamps requests with the real time.
   */
  signatureClock?: Clock;
  /**
   * Flywheel's origin. With it (and the tokens and AES keys above) the platform builds its own
   * player for POST /sandbox/actions; without it call attachPlayer later, or the endpoint answers 503.
   */
  callbackBaseUrl?: string;
  clock?: Clock;
  /** WeChat Pay's keys (server/adapters/sandbox/sandbox-pay-keys.ts); without them no Pay API is served. */
  pay?: SandboxPayKeys;
  /**
   * How long after a mass send its MASSSENDJOBFINISH is pushed to Flywheel (the job runs "later"):
   * 1,000 ms by default; null pushes it only on `POST /sandbox/control/mass-finish`.
   */
  massFinishDelayMs?: number | null;
  /** The WeCom app's trusted domain (可信域名) agent/get answers: Flywheel's public host (default `localhost`). */
  wecomTrustedDomain?: string;
}

export interface SandboxPlatform {
  /**
   * Serves, at absolute paths (mount it without stripping a prefix):
   * - `/sandbox/wechat/...` Official Account and mini-program APIs (WECHAT_API_BASE = <origin>/sandbox/wechat)
   * - `/sandbox/wecom/...` WeCom APIs (WECOM_API_BASE = <origin>/sandbox/wecom)
   * - `GET /sandbox/open/connect/oauth2/authorize` web OAuth's authorize page (WECHAT_OAUTH_BASE = <origin>/sandbox/open),
   *   for the Official Account and, with appid = the corpId, WeCom's OAuth2 (`?userid=` names the member)
   * - `GET /sandbox/wecom/jsbridge.js`, `POST /sandbox/wecom/jsapi` the WeCom client's JS bridge (the sidebar's JS-SDK double),
   *   `POST|GET /sandbox/control/wecom-chat` the rep's current chat and the messages sent into it,
   *   `POST /sandbox/control/wecom-app` the app's visible range, trusted domain and customer contact
   * - `POST /sandbox/sms/` Tencent Cloud SMS's SendSms (SMS_ENDPOINT = http://sms.localhost:<port>/sandbox/sms)
   * - `POST /sandbox/control/fail|delay|followers|clock|wecom-group-msg|mass-finish`, `GET /sandbox/control/calls|mass-sends`, `POST /sandbox/actions`
   */
  app: Koa;
  state: SandboxState;
  /** Tencent Cloud SMS: its limits, balance, blacklist and the messages it accepted. */
  sms: SandboxSms;
  /** WeChat Pay v3 (`/sandbox/pay/v3/...`, `POST /sandbox/pay/actions`), when it was given keys. */
  pay: SandboxPay | null;
  player(): SandboxPlayer | null;
  attachPlayer(player: SandboxPlayer): void;
  /** Serves `POST /sandbox/control/clock` (it answers 503 until attached). */
  attachClockControl(control: SandboxClockControl): void;
}

/** Moves Flywheel's clock forward and runs what fell due (server/jobs/scheduler.ts createClockControl). */
export type SandboxClockControl = (
  advanceSeconds: number,
) => Promise<{ now: Date; ran: string[]; failed: string[]; steps?: number; done?: Record<string, number> }>;

/** A mass send's job "finishes" this long after it was accepted (CreateSandboxPlatformParams.massFinishDelayMs). */
const DEFAULT_MASS_FINISH_DELAY_MS = 1000;
/** At most a year at a time: enough for any journey's wait, bounded against a typo of zeros. */
const MAX_CLOCK_ADVANCE_S = 366 * 86_400;

const BODY_LIMIT_BYTES = 1024 * 1024;
const NEVER_RECORDED = new Set(['secret', 'corpsecret', 'js_code']);

/** A Buffer result is served as image/png (showqrcode, getwxacodeunlimit); anything else as JSON. */
type Handler = (input: { query: Record<string, string>; body: Record<string, unknown>; origin: string }) => object | Promise<object>;

interface EndpointOptions {
  /** Which tokens the endpoint accepts; absent for endpoints that authenticate otherwise. */
  tokens?: readonly SandboxTokenOwner[];
  /** WeCom answers carry `errcode: 0, errmsg: "ok"` on success; most OA answers do not. */
  okEnvelope?: boolean;
  /**
   * A send whose answer the test controls may "lose" (`POST /sandbox/control/lose`): the message
   * is accepted, then the connection is dropped, so the client cannot tell.
   */
  losable?: boolean;
}

/**
 * The sandbox a server serves under /sandbox, or null: only in sandbox mode. Its routes take no
 * session (they play callbacks signed with the configured keys, move the clock, inject failures),
 * so outside sandbox mode they must answer nowhere, not even 401.
 */
export function createSandboxFor(
  config: Pick<Config, 'sandbox' | 'officialAccount' | 'wecom' | 'miniprogram' | 'publicBaseUrl'>,
  p: { callbackBaseUrl: string; clock: Clock },
): SandboxPlatform | null {
  // (Sandbox mode always configures both platforms; the checks only narrow the types.)
  if (!config.sandbox || !config.officialAccount || !config.wecom) return null;
  return createSandboxPlatform({
    officialAccount: config.officialAccount,
    wecom: config.wecom,
    miniprogram: config.miniprogram,
    callbackBaseUrl: p.callbackBaseUrl,
    clock: p.clock,
    // The process's generated keys: compose.ts gives Flywheel's Pay client the same ones.
    pay: processSandboxPayKeys(config.officialAccount.appId),
    wecomTrustedDomain: new URL(config.publicBaseUrl).hostname,
  });
}

/**
 * A fake WeChat + WeCom + mini-program API for development, demos and tests. It checks
 * credentials and tokens, enforces the documented limits that matter to Flywheel (tag counts,
 * name lengths, batch sizes), records every call, and can be told to fail or stall a call.
 */
export function createSandboxPlatform(params: CreateSandboxPlatformParams): SandboxPlatform {
  const state = new SandboxState(
    { officialAccount: params.officialAccount, wecom: params.wecom, miniprogram: params.miniprogram },
    params.clock,
  );
  const signatureClock = params.signatureClock ?? systemClock;
  if (params.wecomTrustedDomain !== undefined) state.wecomApp.settings.redirectDomain = params.wecomTrustedDomain;
  const sms = new SandboxSms(params.sms ?? SMS_SANDBOX_CREDENTIALS, state.clock);
  let player: SandboxPlayer | null = null;
  let clockControl: SandboxClockControl | null = null;
  const oa = params.officialAccount;
  const wc = params.wecom;
  if (params.callbackBaseUrl !== undefined && oa.token && oa.aesKey && wc.token && wc.aesKey) {
    player = createSandboxPlayer({
      callbackBaseUrl: params.callbackBaseUrl,
      officialAccount: { appId: oa.appId, token: oa.token, aesKey: oa.aesKey, ...(oa.messageMode ? { messageMode: oa.messageMode } : {}) },
      wecom: { corpId: wc.corpId, token: wc.token, aesKey: wc.aesKey },
      platform: state,
      ...(params.clock === undefined ? {} : { clock: params.clock }),
    });
  }

  const router = new Router();
  // The merchant has the mini-program bound besides the Official Account: its wx.requestPayment pays JSAPI orders too.
  const pay = params.pay ? new SandboxPay(params.pay, params.callbackBaseUrl ?? null, params.clock, [params.miniprogram.appId]) : null;
  pay?.register(router);
  // The WeCom client's JS bridge for the sidebar (@wecom/jssdk's only way to the client).
  registerWecomJsbridge(router, state);
  const endpoint = (method: 'get' | 'post', path: string, api: string, options: EndpointOptions, handler: Handler): void => {
    router[method](path, async (ctx) => {
      const query = readQuery(ctx);
      let body: Record<string, unknown> = {};
      if (method === 'post') {
        const parsed = await readJson(ctx);
        // 47001 "解析 JSON/XML 内容错误".
        if (parsed === null) return answer(ctx, { errcode: 47001, errmsg: 'data format error' });
        body = parsed;
      }
      state.recordCall(api, maskSecrets(method === 'post' ? body : query));
      const injected = state.takeInjection(api);
      if (injected.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, injected.delayMs));
      if (injected.errcode !== null) {
        return answer(ctx, { errcode: injected.errcode, errmsg: `sandbox injected failure rid: ${ridOf()}` });
      }
      let result: object;
      try {
        if (options.tokens) state.checkToken(query.access_token, options.tokens);
        // Koa's ctx.origin reads as `null` here (it goes through WHATWG URL); the Host header is what the caller used.
        result = await handler({ query, body, origin: `${ctx.protocol}://${ctx.host}` });
      } catch (error) {
        if (!(error instanceof SandboxErrcode)) throw error;
        return answer(ctx, { errcode: error.errcode, errmsg: `${error.errmsg} rid: ${ridOf()}`, ...error.fields });
      }
      if (options.losable && state.messages.takeLostAnswer(api)) {
        ctx.req.socket.destroy();
        ctx.respond = false;
        return;
      }
      if (Buffer.isBuffer(result)) {
        ctx.status = 200;
        ctx.type = 'image/png';
        ctx.body = result;
        return;
      }
      answer(ctx, options.okEnvelope ? { errcode: 0, errmsg: 'ok', ...result } : result);
    });
  };
  const OA: readonly SandboxTokenOwner[] = ['oa'];
  const MP: readonly SandboxTokenOwner[] = ['mp'];
  const WECOM: readonly SandboxTokenOwner[] = ['wecom', 'wecom-agent'];
  const AGENT: readonly SandboxTokenOwner[] = ['wecom-agent'];

  // --- Official Account ---------------------------------------------------------------------------
  endpoint('post', '/sandbox/wechat/cgi-bin/stable_token', 'stable_token', {}, ({ body }) => {
    if (body.grant_type !== 'client_credential') throw new SandboxErrcode(40002, 'invalid grant_type');
    // The mini-program takes its access_token from the same API with its own appid and secret.
    const account =
      body.appid === state.officialAccount.appId
        ? { owner: 'oa' as const, secret: state.officialAccount.secret }
        : body.appid === state.miniprogram.appId
          ? { owner: 'mp' as const, secret: state.miniprogram.secret }
          : null;
    if (account === null) throw new SandboxErrcode(40013);
    if (body.secret !== account.secret) throw new SandboxErrcode(40125);
    const issued = state.issueToken(account.owner, body.force_refresh === true);
    return { access_token: issued.accessToken, expires_in: issued.expiresIn };
  });

  // The platform's callback addresses; the admin's setup check calls it as a cheap "does it answer".
  endpoint('get', '/sandbox/wechat/cgi-bin/getcallbackip', 'getcallbackip', { tokens: OA }, () => ({ ip_list: ['127.0.0.1'] }));

  /** user/info's answer for one follower, as the platform shapes it. */
  const userInfo = (openid: string): Record<string, unknown> => {
    const follower = state.followers.get(openid);
    if (!follower) throw new SandboxErrcode(40003);
    const unionid = follower.unionid === null ? {} : { unionid: follower.unionid };
    // "值为0时，代表此用户没有关注该公众号，拉取不到其余信息".
    if (!follower.subscribed) return { subscribe: 0, openid: follower.openid, ...unionid, tagid_list: [] };
    return {
      subscribe: 1,
      openid: follower.openid,
      language: 'zh_CN',
      subscribe_time: follower.subscribeTime,
      ...unionid,
      // The platform has sent an empty nickname since 2021-12-27; the sandbox returns a seeded one for demos.
      nickname: follower.nickname ?? '',
      headimgurl: '',
      remark: '',
      groupid: 0,
      tagid_list: follower.tagIds,
      subscribe_scene: follower.subscribeScene,
      qr_scene: 0,
      qr_scene_str: follower.qrSceneStr,
    };
  };

  endpoint('get', '/sandbox/wechat/cgi-bin/user/info', 'user/info', { tokens: OA }, ({ query }) => userInfo(query.openid ?? ''));

  // "最多支持一次拉取100条"; an openid that is not the account's fails the whole call (40003).
  endpoint('post', '/sandbox/wechat/cgi-bin/user/info/batchget', 'user/info/batchget', { tokens: OA }, ({ body }) => {
    const list = Array.isArray(body.user_list) ? (body.user_list as { openid?: unknown }[]) : [];
    if (list.length === 0 || list.length > 100) throw new SandboxErrcode(40032, 'invalid openid list size');
    return { user_info_list: list.map((item) => userInfo(typeof item.openid === 'string' ? item.openid : '')) };
  });

  // "成功返回如下JSON: { "errcode":0, "errmsg":"ok", "ticket":"…", "expires_in":7200 }".
  endpoint('get', '/sandbox/wechat/cgi-bin/ticket/getticket', 'ticket/getticket', { tokens: OA, okEnvelope: true }, ({ query }) => {
    // Only the JS-SDK ticket is served; wx_card tickets are of no use to Flywheel.
    if (query.type !== 'jsapi') throw new SandboxErrcode(40097, 'invalid args');
    const issued = state.issueTicket('oa-jsapi');
    return { ticket: issued.ticket, expires_in: issued.expiresIn };
  });

  endpoint('post', '/sandbox/wechat/cgi-bin/tags/create', 'tags/create', { tokens: OA }, ({ body }) => {
    const name = readObject(body.tag)?.name;
    if (typeof name !== 'string') throw new SandboxErrcode(45158, 'tag.name is missing');
    const tag = state.createOaTag(name);
    return { tag: { id: tag.id, name: tag.name } };
  });

  endpoint('get', '/sandbox/wechat/cgi-bin/tags/get', 'tags/get', { tokens: OA }, () => {
    const followers = [...state.followers.values()];
    return {
      tags: [...state.oaTags.values()].map((tag) => ({
        id: tag.id,
        name: tag.name,
        count: followers.filter((f) => f.tagIds.includes(tag.id)).length,
      })),
    };
  });

  endpoint('post', '/sandbox/wechat/cgi-bin/tags/update', 'tags/update', { tokens: OA, okEnvelope: true }, ({ body }) => {
    const tag = readObject(body.tag);
    if (typeof tag?.id !== 'number') throw new SandboxErrcode(45159);
    if (typeof tag.name !== 'string') throw new SandboxErrcode(45158, 'tag.name is missing');
    state.renameOaTag(tag.id, tag.name);
    return {};
  });

  endpoint('post', '/sandbox/wechat/cgi-bin/tags/delete', 'tags/delete', { tokens: OA, okEnvelope: true }, ({ body }) => {
    const id = readObject(body.tag)?.id;
    if (typeof id !== 'number') throw new SandboxErrcode(45159);
    state.deleteOaTag(id);
    return {};
  });

  for (const op of ['tag', 'untag'] as const) {
    const api = `tags/members/batch${op}ging`;
    endpoint('post', `/sandbox/wechat/cgi-bin/${api}`, api, { tokens: OA, okEnvelope: true }, ({ body }) => {
      const openids = body.openid_list;
      const tagId = body.tagid;
      if (!Array.isArray(openids) || !openids.every((o): o is string => typeof o === 'string')) throw new SandboxErrcode(40032);
      if (typeof tagId !== 'number') throw new SandboxErrcode(45159);
      state.changeOaTagMembers(op, tagId, openids);
      return {};
    });
  }

  endpoint('post', '/sandbox/wechat/cgi-bin/tags/getidlist', 'tags/getidlist', { tokens: OA }, ({ body }) => {
    const follower = state.followers.get(typeof body.openid === 'string' ? body.openid : '');
    if (!follower) throw new SandboxErrcode(40003);
    return { tagid_list: follower.tagIds };
  });

  // --- channel codes (issue 15 §1) -----------------------------------------------------------------
  endpoint('post', '/sandbox/wechat/cgi-bin/qrcode/create', 'qrcode/create', { tokens: OA }, ({ body }) =>
    state.channelCodes.createQrCode(body),
  );
  // On mp.weixin.qq.com in real life, without a token; an unknown or expired ticket gets no image.
  router.get('/sandbox/wechat/cgi-bin/showqrcode', async (ctx) => {
    const ticket = readQuery(ctx).ticket ?? '';
    state.recordCall('showqrcode', { ticket });
    const png = await state.channelCodes.qrCodePng(ticket);
    if (!png) {
      ctx.status = 404;
      return;
    }
    ctx.type = 'image/png';
    ctx.body = png;
  });
  endpoint(
    'post',
    '/sandbox/wecom/cgi-bin/externalcontact/add_contact_way',
    'externalcontact/add_contact_way',
    { tokens: WECOM, okEnvelope: true },
    ({ body, origin }) => state.channelCodes.addContactWay(body, origin),
  );
  // The contact way's qr_code URL (on wework.qpic.cn in real life).
  router.get('/sandbox/wecom/contact_way_qr/:file', async (ctx) => {
    const configId = (ctx.params.file ?? '').replace(/\.png$/, '');
    state.recordCall('contact_way_qr', { configId });
    const png = await state.channelCodes.contactWayPng(configId);
    if (!png) {
      ctx.status = 404;
      return;
    }
    ctx.type = 'image/png';
    ctx.body = png;
  });
  endpoint(
    'post',
    '/sandbox/wecom/cgi-bin/externalcontact/send_welcome_msg',
    'externalcontact/send_welcome_msg',
    { tokens: WECOM, okEnvelope: true },
    ({ body }) => {
      state.channelCodes.sendWelcome(body);
      return {};
    },
  );
  endpoint('post', '/sandbox/wechat/wxa/getwxacodeunlimit', 'wxa/getwxacodeunlimit', { tokens: MP }, ({ body }) =>
    state.channelCodes.unlimitedCodePng(body),
  );

  // --- mini-program ---------------------------------------------------------------------------------
  endpoint('get', '/sandbox/wechat/sns/jscode2session', 'jscode2session', {}, ({ query }) => {
    if (query.appid !== state.miniprogram.appId) throw new SandboxErrcode(40013);
    if (query.secret !== state.miniprogram.secret) throw new SandboxErrcode(40125);
    if (query.grant_type !== 'authorization_code') throw new SandboxErrcode(40002, 'invalid grant_type');
    const session = state.redeemLoginCode(query.js_code ?? '');
    return { openid: session.openid, session_key: session.sessionKey, ...(session.unionid === null ? {} : { unionid: session.unionid }) };
  });

  // getPhoneNumber's code exchanged for the number (with the mini-program's access_token).
  endpoint('post', '/sandbox/wechat/wxa/business/getuserphonenumber', 'wxa/business/getuserphonenumber', { tokens: MP }, ({ body }) => {
    const phone = state.redeemPhoneCode(typeof body.code === 'string' ? body.code : '');
    const watermark = { timestamp: Math.floor(state.clock.now().getTime() / 1000), appid: state.miniprogram.appId };
    return { errcode: 0, errmsg: 'ok', phone_info: { ...phone, watermark } };
  });
  // A mini-program user tapping the getPhoneNumber button: the code their button would give.
  router.post('/sandbox/control/mp-phone-code', async (ctx) => {
    const input = controlPhoneCodeSchema.safeParse((await readJson(ctx)) ?? {});
    if (!input.success) return refuse(ctx, 'send {phoneNumber?, countryCode?}', 'sandbox_bad_request');
    ctx.body = { ok: true, ...state.issuePhoneCode(input.data) };
  });
  // A mini-program user opening the mini-program: the code wx.login would give (a new user without openid).
  router.post('/sandbox/control/mp-login-code', async (ctx) => {
    const input = controlLoginCodeSchema.safeParse((await readJson(ctx)) ?? {});
    if (!input.success) return refuse(ctx, 'send {openid?, unionid?}', 'sandbox_bad_request');
    ctx.body = { ok: true, ...state.issueLoginCode(input.data) };
  });

  // --- Official Account web OAuth (网页授权) -------------------------------------------------------------
  // The authorize page (WECHAT_OAUTH_BASE = <origin>/sandbox/open): WeChat checks the link, then
  // 302s the visitor back to redirect_uri with a one-time code and the state. The visitor is the
  // follower named by `openid` (a test's or the panel's choice), else the player's current one
  // (the latest subscriber), else someone who does not follow (snsapi_base works for anyone).
  // `snapshot=1` plays a visitor on a Moments snapshot page, whose openid is a virtual one.
  router.get('/sandbox/open/connect/oauth2/authorize', (ctx) => {
    const query = readQuery(ctx);
    state.recordCall('oauth2/authorize', query);
    // WeCom's OAuth2 is the same page with the corpId as appid (the sidebar's rep): a member's code,
    // for `userid` or the default member, or with `openid` someone outside the corp.
    if (query.appid === state.wecom.corpId) {
      const wecomRefusal = checkWecomAuthorizeQuery(query, state.wecom.agentId);
      if (wecomRefusal !== null) {
        ctx.status = 400;
        ctx.type = 'text/plain; charset=utf-8';
        ctx.body = wecomRefusal;
        return;
      }
      const code = state.wecomApp.issueCode(query.openid ? { openId: query.openid } : { userId: query.userid || SANDBOX_DEFAULT_MEMBER });
      // The admin's "try the sidebar" preview: the rep opens it in a chat with this customer.
      if (query.external_userid) state.wecomApp.chat = { externalUserId: query.external_userid, entry: 'single_chat_tools', fail: null };
      const target = new URL(query.redirect_uri ?? '');
      target.searchParams.set('code', code);
      target.searchParams.set('state', query.state ?? '');
      ctx.redirect(target.toString());
      return;
    }
    const refusal = checkAuthorizeQuery(query, state.officialAccount.appId);
    if (refusal !== null) {
      ctx.status = 400;
      ctx.type = 'text/plain; charset=utf-8';
      ctx.body = refusal;
      return;
    }
    const named = query.openid ? query.openid : null;
    const follower = named === null ? state.latestFollower() : (state.followers.get(named) ?? null);
    const openid = named ?? follower?.openid ?? randomOpenid();
    const code = state.webOauth.issueCode({
      openid,
      unionid: follower?.unionid ?? null,
      scope: query.scope ?? 'snsapi_base',
      snapshotUser: query.snapshot === '1',
    });
    const target = new URL(query.redirect_uri ?? '');
    target.searchParams.set('code', code);
    target.searchParams.set('state', query.state ?? '');
    ctx.redirect(target.toString());
  });
  endpoint('get', '/sandbox/wechat/sns/oauth2/access_token', 'sns/oauth2/access_token', {}, ({ query }) => {
    if (query.appid !== state.officialAccount.appId) throw new SandboxErrcode(40013);
    if (query.secret !== state.officialAccount.secret) throw new SandboxErrcode(40125);
    if (query.grant_type !== 'authorization_code') throw new SandboxErrcode(40002, 'invalid grant_type');
    const redeemed = state.webOauth.redeem(query.code ?? '');
    return {
      access_token: `SBX_WEB_${randomBytes(48).toString('base64url')}`,
      expires_in: 7200,
      refresh_token: `SBX_WEB_REFRESH_${randomBytes(48).toString('base64url')}`,
      openid: redeemed.openid,
      scope: redeemed.scope,
      ...(redeemed.unionid === null ? {} : { unionid: redeemed.unionid }),
      ...(redeemed.snapshotUser ? { is_snapshotuser: 1 } : {}),
    };
  });

  // --- WeCom ----------------------------------------------------------------------------------------
  endpoint('get', '/sandbox/wecom/cgi-bin/gettoken', 'gettoken', { okEnvelope: true }, ({ query }) => {
    if (query.corpid !== state.wecom.corpId) throw new SandboxErrcode(40013);
    // WeCom answers a wrong secret with 40001 "不合法的secret参数".
    const owner = query.corpsecret === state.wecom.secret ? 'wecom' : query.corpsecret === state.wecom.agentSecret ? 'wecom-agent' : null;
    if (owner === null) throw new SandboxErrcode(40001, 'invalid credential (secret)');
    const issued = state.issueToken(owner, false);
    return { access_token: issued.accessToken, expires_in: issued.expiresIn };
  });

  // 获取访问用户身份: the app's own token ("跳转的域名须完全匹配access_token对应应用的可信域名").
  endpoint('get', '/sandbox/wecom/cgi-bin/auth/getuserinfo', 'auth/getuserinfo', { tokens: AGENT, okEnvelope: true }, ({ query }) =>
    state.wecomApp.redeem(query.code ?? ''),
  );

  // 获取指定的应用详情, from the app's settings in the admin console (state.wecomApp.settings).
  endpoint('get', '/sandbox/wecom/cgi-bin/agent/get', 'agent/get', { tokens: AGENT, okEnvelope: true }, ({ query }) => {
    if (query.agentid !== state.wecom.agentId) throw new SandboxErrcode(40056, 'invalid agentid');
    const { settings } = state.wecomApp;
    return {
      agentid: Number(state.wecom.agentId),
      name: settings.name,
      square_logo_url: '',
      description: '',
      // A range of "everyone" is the root department (id 1), as the console saves it.
      allow_userinfos: { user: (settings.visibleUserIds ?? []).map((userid) => ({ userid })) },
      allow_partys: { partyid: settings.visibleUserIds === null ? [1] : [] },
      allow_tags: { tagid: [] },
      close: 0,
      redirect_domain: settings.redirectDomain,
      report_location_flag: 0,
      isreportenter: 0,
      home_url: '',
    };
  });
  // "48002 API接口无权限调用": the app is not among those allowed to call the customer-contact API.
  endpoint(
    'get',
    '/sandbox/wecom/cgi-bin/externalcontact/get_follow_user_list',
    'externalcontact/get_follow_user_list',
    { tokens: WECOM, okEnvelope: true },
    ({ query }) => {
      const { settings } = state.wecomApp;
      if (!settings.customerContact && state.tokenOwner(query.access_token) === 'wecom-agent')
        throw new SandboxErrcode(48002, 'api forbidden');
      return { follow_user: settings.followUserIds ?? state.wecomMemberIds() };
    },
  );

  endpoint('get', '/sandbox/wecom/cgi-bin/get_api_domain_ip', 'get_api_domain_ip', { tokens: WECOM, okEnvelope: true }, () => ({
    ip_list: ['127.0.0.1'],
  }));

  // Both tickets are fetched with the self-built app's token: "必须用wx.agentConfig中的agentid对应的应用去获取access_token".
  endpoint('get', '/sandbox/wecom/cgi-bin/get_jsapi_ticket', 'get_jsapi_ticket', { tokens: AGENT, okEnvelope: true }, () => {
    const issued = state.issueTicket('wecom-jsapi');
    return { ticket: issued.ticket, expires_in: issued.expiresIn };
  });

  endpoint('get', '/sandbox/wecom/cgi-bin/ticket/get', 'ticket/get', { tokens: AGENT, okEnvelope: true }, ({ query }) => {
    if (query.type !== 'agent_config') throw new SandboxErrcode(40058, 'invalid type');
    const issued = state.issueTicket('wecom-agent-config');
    return { ticket: issued.ticket, expires_in: issued.expiresIn };
  });

  // 发送应用消息: answered as WeCom does for a userid it knows; every call is in the recorded calls.
  endpoint('post', '/sandbox/wecom/cgi-bin/message/send', 'message/send', { tokens: AGENT, okEnvelope: true }, ({ body }) => {
    if (String(body.agentid) !== state.wecom.agentId) throw new SandboxErrcode(40056, 'invalid agentid');
    if (typeof body.touser !== 'string' || body.touser === '') throw new SandboxErrcode(40031, 'invalid user list');
    return { invaliduser: '', invalidparty: '', invalidtag: '', unlicenseduser: '', msgid: `sandbox-msg-${ridOf()}` };
  });

  endpoint('get', '/sandbox/wecom/cgi-bin/externalcontact/get', 'externalcontact/get', { tokens: WECOM, okEnvelope: true }, ({ query }) => {
    const contact = state.externalContacts.get(query.external_userid ?? '');
    if (!contact) throw new SandboxErrcode(40096);
    // "当客户在企业内的跟进人超过500人时需要使用cursor参数进行分页获取".
    const offset = Number(query.cursor ?? '0') || 0;
    const page = contact.followUsers.slice(offset, offset + FOLLOW_USER_PAGE_SIZE);
    const nextOffset = offset + page.length;
    return {
      external_contact: {
        external_userid: contact.externalUserId,
        name: contact.name,
        avatar: contact.avatar,
        type: 1,
        gender: 0,
        ...(contact.unionid === null ? {} : { unionid: contact.unionid }),
      },
      follow_user: page.map((follow) => ({
        userid: follow.userId,
        remark: '',
        description: '',
        createtime: follow.createTime,
        tags: follow.tagIds.flatMap((id) => {
          const found = state.findCorpTag(id);
          return found ? [{ group_name: found.group.groupName, tag_name: found.tag.name, tag_id: id, type: 1 }] : [];
        }),
        remark_mobiles: [],
        // 1 = "扫描二维码": contact ways (and their state) are QR codes.
        add_way: 1,
        oper_userid: follow.userId,
        ...(follow.state === null ? {} : { state: follow.state }),
      })),
      ...(nextOffset < contact.followUsers.length ? { next_cursor: String(nextOffset) } : {}),
    };
  });

  endpoint(
    'post',
    '/sandbox/wecom/cgi-bin/externalcontact/mark_tag',
    'externalcontact/mark_tag',
    { tokens: WECOM, okEnvelope: true },
    ({ body }) => {
      state.markTag({
        userId: typeof body.userid === 'string' ? body.userid : '',
        externalUserId: typeof body.external_userid === 'string' ? body.external_userid : '',
        addTagIds: readStrings(body.add_tag),
        removeTagIds: readStrings(body.remove_tag),
      });
      return {};
    },
  );

  endpoint(
    'post',
    '/sandbox/wecom/cgi-bin/externalcontact/get_corp_tag_list',
    'externalcontact/get_corp_tag_list',
    { tokens: WECOM, okEnvelope: true },
    ({ body }) => {
      const groupIds = readStrings(body.group_id);
      const tagIds = readStrings(body.tag_id);
      const groups = state.corpTagGroups.filter((g) => !g.deleted && (groupIds.length === 0 || groupIds.includes(g.groupId)));
      return {
        tag_group: groups
          .map((group) => ({
            group_id: group.groupId,
            group_name: group.groupName,
            create_time: group.createTime,
            order: group.order,
            deleted: false,
            // "同时传递tag_id和group_id时，忽略tag_id".
            tag: group.tags
              .filter((tag) => !tag.deleted && (groupIds.length > 0 || tagIds.length === 0 || tagIds.includes(tag.id)))
              .map((tag) => ({ id: tag.id, name: tag.name, create_time: tag.createTime, order: tag.order, deleted: false })),
          }))
          .filter((group) => groupIds.length > 0 || tagIds.length === 0 || group.tag.length > 0),
      };
    },
  );

  endpoint(
    'post',
    '/sandbox/wecom/cgi-bin/externalcontact/add_corp_tag',
    'externalcontact/add_corp_tag',
    { tokens: WECOM, okEnvelope: true },
    ({ body }) => {
      const tagNames = Array.isArray(body.tag)
        ? body.tag.map((t) => readObject(t)?.name).filter((n): n is string => typeof n === 'string')
        : [];
      if (tagNames.length === 0) throw new SandboxErrcode(40072, 'tag is empty');
      const { group, created } = state.addCorpTags({
        ...(typeof body.group_id === 'string' && body.group_id !== '' ? { groupId: body.group_id } : {}),
        ...(typeof body.group_name === 'string' ? { groupName: body.group_name } : {}),
        tagNames,
      });
      return {
        tag_group: {
          group_id: group.groupId,
          group_name: group.groupName,
          create_time: group.createTime,
          order: group.order,
          tag: created.map((tag) => ({ id: tag.id, name: tag.name, create_time: tag.createTime, order: tag.order })),
        },
      };
    },
  );

  endpoint(
    'post',
    '/sandbox/wecom/cgi-bin/externalcontact/edit_corp_tag',
    'externalcontact/edit_corp_tag',
    { tokens: WECOM, okEnvelope: true },
    ({ body }) => {
      if (typeof body.id !== 'string' || typeof body.name !== 'string') throw new SandboxErrcode(40068);
      state.editCorpTag(body.id, body.name);
      return {};
    },
  );

  endpoint(
    'post',
    '/sandbox/wecom/cgi-bin/externalcontact/del_corp_tag',
    'externalcontact/del_corp_tag',
    { tokens: WECOM, okEnvelope: true },
    ({ body }) => {
      state.deleteCorpTags(readStrings(body.tag_id), readStrings(body.group_id));
      return {};
    },
  );

  // 企业群发: a task for the rep, sent only when the rep confirms it (sandbox-group-messages.ts).
  endpoint(
    'post',
    '/sandbox/wecom/cgi-bin/externalcontact/add_msg_template',
    'externalcontact/add_msg_template',
    { tokens: WECOM, okEnvelope: true },
    ({ body }) => {
      const created = state.groupMessages.addMsgTemplate(body);
      return { fail_list: created.failList, msgid: created.msgid };
    },
  );

  endpoint(
    'post',
    '/sandbox/wecom/cgi-bin/externalcontact/get_groupmsg_send_result',
    'externalcontact/get_groupmsg_send_result',
    { tokens: WECOM, okEnvelope: true },
    ({ body }) => {
      const msgid = typeof body.msgid === 'string' ? body.msgid : '';
      const userid = typeof body.userid === 'string' ? body.userid : '';
      // "limit: 返回的最大记录数，整型，最大值1000，默认值500"; the cursor is an offset here.
      const limit = typeof body.limit === 'number' ? body.limit : 500;
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new SandboxErrcode(40058, 'invalid limit');
      const offset = Number(typeof body.cursor === 'string' ? body.cursor : '0') || 0;
      const all = state.groupMessages.sendResult(msgid, userid);
      const page = all.slice(offset, offset + limit);
      return {
        send_list: page,
        ...(offset + page.length < all.length ? { next_cursor: String(offset + page.length) } : { next_cursor: '' }),
      };
    },
  );

  endpoint(
    'post',
    '/sandbox/wecom/cgi-bin/externalcontact/cancel_groupmsg_send',
    'externalcontact/cancel_groupmsg_send',
    { tokens: WECOM, okEnvelope: true },
    ({ body }) => {
      state.groupMessages.cancel(typeof body.msgid === 'string' ? body.msgid : '');
      return {};
    },
  );

  // --- template messages ------------------------------------------------------------------------
  // The private template library ("获取已添加至帐号下所有模板列表").
  endpoint('get', '/sandbox/wechat/cgi-bin/template/get_all_private_template', 'template/get_all_private_template', { tokens: OA }, () => ({
    template_list: SANDBOX_TEMPLATE_LIBRARY.map((t) => ({ ...t })),
  }));

  // message/template/send, with client_msg_id honoured for 10 minutes per openid. An answer the
  // test controls "lose" is dropped after the message was accepted: the client cannot tell.
  const SENDS = { tokens: OA, okEnvelope: true, losable: true } as const;
  endpoint('post', '/sandbox/wechat/cgi-bin/message/template/send', 'template/send', SENDS, ({ body }) =>
    state.messages.sendTemplate(body, (openid) => state.followers.get(openid)?.subscribed === true),
  );
  // message/custom/send: customer-service messages inside the follower's 48-hour window, counted
  // per window (sandbox-custom-messages.ts). Its answer can be lost like template/send's (`custom/send`).
  endpoint('post', '/sandbox/wechat/cgi-bin/message/custom/send', 'custom/send', SENDS, ({ body }) =>
    state.customMessages.send(body, (openid) => state.followers.get(openid)),
  );
  // Subscribe messages: bizsend (Official Account) and subscribe/send (mini-program), each spending
  // one of the user's grants (sandbox-messages.ts sendSubscribe); an answer may be "lost" as above.
  const subscribeSend = (
    path: string,
    api: SandboxSubscribeApi,
    owners: readonly SandboxTokenOwner[],
    knows: (openid: string) => boolean,
  ) => endpoint('post', path, api, { ...SENDS, tokens: owners }, ({ body }) => state.messages.sendSubscribe(api, body, knows));
  subscribeSend('/sandbox/wechat/cgi-bin/message/subscribe/bizsend', 'subscribe/bizsend', OA, (openid) => state.followers.has(openid));
  subscribeSend('/sandbox/wechat/cgi-bin/message/subscribe/send', 'subscribe/send', MP, (openid) => state.miniProgramUsers.has(openid));
  // A mini-program user answering wx.requestSubscribeMessage (no callback: the mini-program reports
  // it to Flywheel itself). Official Account popups are played as callbacks (sandbox-player.ts).
  router.post('/sandbox/control/subscribe', async (ctx) => {
    const input = controlSubscribeSchema.safeParse(await readJson(ctx));
    if (!input.success) return refuse(ctx, 'send {openid, templateIds, answer}', 'sandbox_bad_request');
    state.miniProgramUsers.add(input.data.openid);
    for (const templateId of input.data.templateIds)
      state.messages.answerSubscribe('subscribe/send', input.data.openid, templateId, input.data.answer);
    ctx.body = { ok: true };
  });
  // message/mass/sendall, with clientmsgid refused when reused within 24 hours: 45065 answering
  // the first send's msg_id, as WeChat does. The job's MASSSENDJOBFINISH is pushed later.
  endpoint('post', '/sandbox/wechat/cgi-bin/message/mass/sendall', 'mass/sendall', SENDS, ({ body }) => {
    const followers = [...state.followers.values()].filter((f) => f.subscribed);
    const sent = state.messages.massSendAll(body, followers, (tagId) => state.oaTags.has(tagId));
    const delay = params.massFinishDelayMs === undefined ? DEFAULT_MASS_FINISH_DELAY_MS : params.massFinishDelayMs;
    if (delay !== null) setTimeout(() => void pushMassFinishes().catch(() => undefined), delay).unref();
    return {
      errmsg: 'send job submission success',
      msg_id: sent.msgId,
      ...(sent.msgDataId === null ? {} : { msg_data_id: sent.msgDataId }),
    };
  });
  /** Pushes the finished mass sends' MASSSENDJOBFINISH (each once); none without a player. */
  const pushMassFinishes = async (): Promise<number[]> => {
    if (!player) return [];
    const played = player;
    const statuses: number[] = [];
    for (const send of state.messages.takeMassFinishes()) {
      const n = send.openids.length;
      const result = await played.massSendJobFinish({
        msgId: send.msgId,
        status: 'send success',
        totalCount: n,
        filterCount: n,
        sentCount: n,
        errorCount: 0,
      });
      statuses.push(result.status);
    }
    return statuses;
  };
  router.post('/sandbox/control/mass-finish', async (ctx) => {
    if (!player) {
      ctx.status = 503;
      ctx.body = { ok: false, error: 'the sandbox has no player: Flywheel did not attach one', code: 'sandbox_no_player' };
      return;
    }
    const statuses = await pushMassFinishes();
    ctx.body = { ok: true, pushed: statuses.length, statuses };
  });
  router.get('/sandbox/control/mass-sends', (ctx) => {
    ctx.body = { massSends: state.messages.massSends };
  });
  router.post('/sandbox/control/quota', async (ctx) => {
    const input = controlQuotaSchema.safeParse(await readJson(ctx));
    if (!input.success) return refuse(ctx, 'send {api, limit}', 'sandbox_bad_request');
    state.messages.setDailyQuota(input.data.api, input.data.limit);
    ctx.body = { ok: true };
  });
  router.post('/sandbox/control/lose', async (ctx) => {
    const input = controlLoseSchema.safeParse(await readJson(ctx));
    if (!input.success) return refuse(ctx, 'send {api, times}', 'sandbox_bad_request');
    state.messages.loseAnswers(input.data.api, input.data.times);
    ctx.body = { ok: true };
  });
  // The reps of 企业群发 tasks: confirm one task or every waiting one, or set how long they take.
  router.post('/sandbox/control/wecom-group-msg', async (ctx) => {
    const input = controlGroupMsgSchema.safeParse(await readJson(ctx));
    if (!input.success) return refuse(ctx, 'send {confirm?: msgid | "all", autoConfirmSeconds?: number | null}', 'sandbox_bad_request');
    if (input.data.autoConfirmSeconds !== undefined)
      state.groupMessages.autoConfirmMs = input.data.autoConfirmSeconds === null ? null : input.data.autoConfirmSeconds * 1000;
    let confirmed: string[] = [];
    try {
      if (input.data.confirm === 'all') confirmed = state.groupMessages.confirmAll();
      else if (input.data.confirm !== undefined) confirmed = [state.groupMessages.confirm(input.data.confirm).msgid];
    } catch (error) {
      if (!(error instanceof SandboxErrcode)) throw error;
      return refuse(ctx, `no task with msgid ${input.data.confirm ?? ''}`, 'sandbox_bad_request');
    }
    ctx.body = { ok: true, confirmed, tasks: state.groupMessages.tasks.length };
  });
  router.get('/sandbox/control/messages', (ctx) => {
    ctx.body = {
      messages: state.messages.accepted,
      customMessages: state.customMessages.accepted,
      subscribeMessages: state.messages.subscribeAccepted,
    };
  });

  // --- Tencent Cloud SMS ------------------------------------------------------------------------
  // API 3.0: a JSON POST to the endpoint's root, signed TC3-HMAC-SHA256 over the bytes received;
  // every answer is 200 with {"Response": {...}}, a refusal as Response.Error. The SDK signs the
  // service named by the host's first label, so the sandbox is reached as sms.localhost.
  const smsHandler = async (ctx: Context): Promise<void> => {
    const requestId = randomUUID();
    const reply = (response: object): void => answer(ctx, { Response: { ...response, RequestId: requestId } });
    const refuseSms = (code: string, message: string): void => reply({ Error: { Code: code, Message: message } });
    const raw = await readRaw(ctx);
    if (raw === null) return refuseSms('InvalidParameter', 'the request body is too large');
    const headers = Object.fromEntries(Object.entries(ctx.headers).map(([k, v]) => [k, Array.isArray(v) ? v[0] : v]));
    const verified = verifyTc3Request(
      { method: ctx.method, path: ctx.path, query: ctx.querystring, headers, body: raw },
      {
        service: 'sms',
        secrets: new Map([[sms.account.secretId, sms.account.secretKey]]),
        nowS: Math.floor(signatureClock.now().getTime() / 1000),
      },
    );
    if (!verified.ok) return refuseSms(verified.code, verified.message);
    const action = headers['x-tc-action'] ?? '';
    if (action !== 'SendSms') return refuseSms('InvalidAction', `the action ${action} does not exist (the sandbox serves SendSms)`);
    if (headers['x-tc-version'] !== '2021-01-11') return refuseSms('NoSuchVersion', 'the sandbox serves SendSms of API version 2021-01-11');
    if (!['ap-guangzhou', 'ap-beijing', 'ap-nanjing'].includes(headers['x-tc-region'] ?? ''))
      return refuseSms('UnsupportedRegion', 'SMS is served in ap-guangzhou, ap-beijing and ap-nanjing');
    let body: Record<string, unknown> | null;
    try {
      body = readObject(JSON.parse(raw.toString('utf8')));
    } catch {
      body = null;
    }
    if (body === null) return refuseSms('InvalidParameter', 'the request body is not a JSON object');
    const api = 'sms/SendSms';
    state.recordCall(api, body);
    let result: object;
    try {
      result = sms.sendSms(body);
    } catch (error) {
      if (!(error instanceof SandboxSmsError)) throw error;
      return refuseSms(error.code, error.message);
    }
    // A stalled answer comes after the messages went out: the client that gives up cannot tell.
    const injected = state.takeInjection(api);
    if (injected.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, injected.delayMs));
    reply(result);
  };
  router.post('/sandbox/sms', smsHandler);
  router.post('/sandbox/sms/', smsHandler);
  router.post('/sandbox/control/sms', async (ctx) => {
    const input = controlSmsSchema.safeParse(await readJson(ctx));
    if (!input.success) return refuse(ctx, 'send {limits?, balance?, blacklist?, fail?, reset?}', 'sandbox_bad_request');
    const c = input.data;
    if (c.reset) sms.reset();
    if (c.limits) sms.limits = { ...sms.limits, ...c.limits };
    if (c.balance !== undefined) sms.balance = c.balance;
    for (const phone of c.blacklist ?? []) sms.blacklist.add(phone);
    if (c.fail) sms.failNext(c.fail.code, c.fail.times);
    ctx.body = { ok: true };
  });
  router.get('/sandbox/control/sms', (ctx) => {
    ctx.body = { messages: sms.accepted, limits: sms.limits, balance: sms.balance };
  });

  // --- control and actions ------------------------------------------------------------------------------
  router.post('/sandbox/control/fail', async (ctx) => {
    const input = controlFailSchema.safeParse(await readJson(ctx));
    if (!input.success) return refuse(ctx, 'send {api, errcode, times?}', 'sandbox_bad_request');
    state.failNext(input.data.api, input.data.errcode, input.data.times);
    ctx.body = { ok: true };
  });
  router.post('/sandbox/control/delay', async (ctx) => {
    const input = controlDelaySchema.safeParse(await readJson(ctx));
    if (!input.success) return refuse(ctx, 'send {api, ms}', 'sandbox_bad_request');
    state.delayNext(input.data.api, input.data.ms);
    ctx.body = { ok: true };
  });
  // Followers who exist on the platform without having been played (a bench's crowd, an import).
  router.post('/sandbox/control/followers', async (ctx) => {
    const input = controlFollowersSchema.safeParse(await readJson(ctx));
    if (!input.success) return refuse(ctx, 'send {openids: [..], scene?}', 'sandbox_bad_request');
    for (const openid of input.data.openids)
      state.addFollower({ openid, ...(input.data.scene === undefined ? {} : { scene: input.data.scene }) });
    ctx.body = { ok: true, followers: input.data.openids.length };
  });
  router.post('/sandbox/control/clock', async (ctx) => {
    const input = controlClockSchema.safeParse(await readJson(ctx));
    if (!input.success)
      return refuse(ctx, `send {advanceSeconds}: a whole number of seconds from 1 to ${MAX_CLOCK_ADVANCE_S}`, 'sandbox_bad_request');
    if (!clockControl) {
      ctx.status = 503;
      ctx.body = { ok: false, error: 'the sandbox has no clock control: Flywheel did not attach one', code: 'sandbox_no_clock' };
      return;
    }
    const moved = await clockControl(input.data.advanceSeconds);
    ctx.body = {
      ok: true,
      now: moved.now.toISOString(),
      ran: moved.ran,
      failed: moved.failed,
      steps: moved.steps ?? 0,
      done: moved.done ?? {},
    };
  });
  // The WeCom app's settings in the admin console: visible range, trusted domain, customer contact.
  router.post('/sandbox/control/wecom-app', async (ctx) => {
    const input = controlWecomAppSchema.safeParse(await readJson(ctx));
    if (!input.success)
      return refuse(ctx, 'send {name?, visibleUserIds?, redirectDomain?, customerContact?, followUserIds?}', 'sandbox_bad_request');
    const { settings } = state.wecomApp;
    state.wecomApp.settings = {
      name: input.data.name ?? settings.name,
      visibleUserIds: input.data.visibleUserIds === undefined ? settings.visibleUserIds : input.data.visibleUserIds,
      redirectDomain: input.data.redirectDomain ?? settings.redirectDomain,
      customerContact: input.data.customerContact ?? settings.customerContact,
      followUserIds: input.data.followUserIds === undefined ? settings.followUserIds : input.data.followUserIds,
    };
    ctx.body = { ok: true, ...state.wecomApp.settings };
  });
  router.get('/sandbox/control/calls', (ctx) => {
    ctx.body = { calls: state.calls };
  });
  router.post('/sandbox/actions', async (ctx) => {
    const input = sandboxActionSchema.safeParse(await readJson(ctx));
    if (!input.success) {
      const issue = input.error.issues[0];
      return refuse(
        ctx,
        `bad action: ${issue ? `${issue.path.join('.') || 'body'} ${issue.message}` : 'invalid body'}`,
        'sandbox_bad_action',
        {
          field: issue?.path.join('.') ?? '',
        },
      );
    }
    if (!player) {
      ctx.status = 503;
      ctx.body = {
        ok: false,
        error: 'the sandbox has no player: it was created without callbackBaseUrl and callback keys',
        code: 'sandbox_no_player',
      };
      return;
    }
    try {
      ctx.body = await runSandboxAction(player, state, input.data);
    } catch (error) {
      if (error instanceof SandboxActionError) return refuse(ctx, error.message, error.code, error.params);
      ctx.status = 502;
      ctx.body = {
        ok: false,
        error: `the callback could not be delivered: ${error instanceof Error ? error.message : 'unknown error'}`,
        code: 'sandbox_callback_failed',
      };
    }
  });

  const app = new Koa();
  app.silent = true;
  app.use(async (ctx, next) => {
    try {
      await next();
    } catch (error) {
      // "-1 系统繁忙" is what the platform answers when it fails inside; the sandbox adds the
      // cause, so that a bug in the fake is not mistaken for a busy platform.
      ctx.status = 200;
      ctx.body = { errcode: -1, errmsg: `system error: ${error instanceof Error ? error.message : String(error)}` };
    }
  });
  app.use(router.routes()).use(router.allowedMethods());

  return {
    app,
    state,
    sms,
    pay,
    player: () => player,
    attachPlayer(attached: SandboxPlayer) {
      player = attached;
    },
    attachClockControl(control: SandboxClockControl) {
      clockControl = control;
    },
  };
}

/** Listens on 127.0.0.1 (port 0 = any free port), for tests and a standalone sandbox. */
export async function startSandboxServer(platform: SandboxPlatform, port = 0): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer(platform.app.callback());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the sandbox server is not listening on TCP');
  return {
    url: `http://127.0.0.1:${address.port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

const FOLLOW_USER_PAGE_SIZE = 500;

const controlFailSchema = z.object({
  api: z.string().min(1),
  errcode: z.number().int(),
  times: z.number().int().min(1).max(1000).optional(),
});
const controlPhoneCodeSchema = z.object({
  phoneNumber: z
    .string()
    .regex(/^\d{5,15}$/)
    .optional(),
  countryCode: z
    .string()
    .regex(/^\d{1,4}$/)
    .optional(),
});
const controlLoginCodeSchema = z.object({
  openid: z.string().min(1).max(128).optional(),
  unionid: z.string().min(1).max(128).nullable().optional(),
});
const controlDelaySchema = z.object({ api: z.string().min(1), ms: z.number().int().min(0).max(60_000) });
const controlFollowersSchema = z.object({
  openids: z.array(z.string().min(1).max(64)).min(1).max(10_000),
  scene: z.string().min(1).max(64).optional(),
});
const controlQuotaSchema = z.object({ api: z.string().min(1), limit: z.number().int().min(0).nullable() });
const controlGroupMsgSchema = z.object({
  confirm: z.string().min(1).max(64).optional(),
  autoConfirmSeconds: z
    .number()
    .int()
    .min(0)
    .max(30 * 86_400)
    .nullable()
    .optional(),
});
const controlLoseSchema = z.object({ api: z.string().min(1), times: z.number().int().min(1).max(100_000) });
const controlSubscribeSchema = z.object({
  openid: z.string().min(1).max(64),
  templateIds: z.array(z.string().min(1).max(128)).min(1).max(20),
  answer: z.enum(['accept', 'reject', 'ban', 'filter']),
});
const controlSmsSchema = z.object({
  limits: z
    .object({
      perThirtySeconds: z.number().int().min(1).max(1_000_000),
      perHour: z.number().int().min(1).max(1_000_000),
      perDay: z.number().int().min(1).max(1_000_000),
    })
    .partial()
    .optional(),
  balance: z.number().int().min(0).nullable().optional(),
  blacklist: z
    .array(z.string().regex(/^\+\d{6,15}$/))
    .max(1000)
    .optional(),
  fail: z.object({ code: z.string().min(1).max(100), times: z.number().int().min(1).max(1000).optional() }).optional(),
  reset: z.boolean().optional(),
});
const userIdsSchema = z.array(z.string().min(1).max(64)).max(10_000).nullable().optional();
const controlWecomAppSchema = z.object({
  name: z.string().min(1).max(64).optional(),
  visibleUserIds: userIdsSchema,
  redirectDomain: z.string().min(1).max(255).optional(),
  customerContact: z.boolean().optional(),
  followUserIds: userIdsSchema,
});
const controlClockSchema = z.object({ advanceSeconds: z.number().int().min(1).max(MAX_CLOCK_ADVANCE_S) });

function answer(ctx: Context, body: object): void {
  ctx.status = 200;
  ctx.type = 'application/json';
  ctx.body = JSON.stringify(body);
}

/** A 400 in the sandbox's own shape, with a code (and params) the admin page turns into its language. */
function refuse(ctx: Context, message: string, code: SandboxErrorCode, params: Record<string, string> = {}): void {
  ctx.status = 400;
  ctx.body = { ok: false, error: message, code, params };
}

function readQuery(ctx: Context): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(ctx.query)) {
    const first = Array.isArray(value) ? value[0] : value;
    if (typeof first === 'string') out[name] = first;
  }
  return out;
}

/** The call log is served over HTTP: credentials show only that they were sent, and access_token not at all. */
function maskSecrets(fields: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(fields)) {
    if (name === 'access_token') continue;
    out[name] = NEVER_RECORDED.has(name) ? '***' : value;
  }
  return out;
}

/** The body's bytes (a signature covers them as sent), or null past the size limit. */
async function readRaw(ctx: Context): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > BODY_LIMIT_BYTES) return null;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** The body as a JSON object, or null when it is not one. */
async function readJson(ctx: Context): Promise<Record<string, unknown> | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > BODY_LIMIT_BYTES) return null;
    chunks.push(chunk);
  }
  try {
    return readObject(JSON.parse(Buffer.concat(chunks).toString('utf8')));
  } catch {
    // Not JSON: the caller refuses a null body as bad input.
    return null;
  }
}

function readObject(value: unknown): Record<string, unknown> | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  return Object.fromEntries(Object.entries(value));
}

function readStrings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

/**
 * What WeChat's authorize page refuses, as the sentence it shows (the visitor sees an error page,
 * no redirect), or null. The parameters the sandbox cannot judge (the redirect domain against the
 * account's 网页授权域名) pass.
 */
function checkAuthorizeQuery(query: Record<string, string>, appId: string): string | null {
  if (query.appid !== appId) return 'appid参数错误 (invalid appid)';
  if (query.response_type !== 'code') return 'response_type参数错误 (response_type must be code)';
  if (query.scope !== 'snsapi_base' && query.scope !== 'snsapi_userinfo') return 'scope参数错误或没有scope权限 (invalid scope)';
  if (query.state !== undefined && !/^[A-Za-z0-9]{0,128}$/.test(query.state)) return 'state参数错误 (a-zA-Z0-9, at most 128 bytes)';
  const redirect = query.redirect_uri ?? '';
  if (!/^https?:\/\//.test(redirect) || !URL.canParse(redirect)) return 'redirect_uri参数错误 (not an absolute URL)';
  return null;
}

/**
 * What WeCom's authorize page refuses for its OAuth2 (appid = the corpId), or null: the same
 * checks, with `snsapi_privateinfo` allowed and the app's agentid required to be this app's.
 * @link https://developer.work.weixin.qq.com/document/path/91022
 */
function checkWecomAuthorizeQuery(query: Record<string, string>, agentId: string): string | null {
  if (query.response_type !== 'code') return 'response_type参数错误 (response_type must be code)';
  if (query.scope !== 'snsapi_base' && query.scope !== 'snsapi_privateinfo') return 'scope参数错误 (invalid scope)';
  if (query.agentid !== undefined && query.agentid !== agentId) return 'agentid参数错误 (not this corp’s app)';
  if (query.state !== undefined && !/^[A-Za-z0-9]{0,128}$/.test(query.state)) return 'state参数错误 (a-zA-Z0-9, at most 128 bytes)';
  const redirect = query.redirect_uri ?? '';
  if (!/^https?:\/\//.test(redirect) || !URL.canParse(redirect)) return 'redirect_uri参数错误 (not an absolute URL)';
  return null;
}

/** Real errmsg ends with a request id ("rid: ...") to quote to WeChat support. */
function ridOf(): string {
  return `sandbox-${randomBytes(6).toString('hex')}`;
}
