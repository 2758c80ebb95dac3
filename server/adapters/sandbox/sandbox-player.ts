import { randomInt } from 'node:crypto';
import axios from 'axios';
import { z } from 'zod';
import type { OfficialAccountMessageMode } from '../../../config/config.schema';
import { MessageCrypto } from '../../wechat/message-crypto';
import { computeSha1Signature } from '../../wechat/signature';
import { buildXml, parseXmlMessage, type XmlBuildFields } from '../../wechat/xml';
import { readText } from '../../wechat/xml-read';
import { systemClock, type Clock } from '../clock';
import type { SandboxState } from './sandbox-state';

export interface SandboxPlayerParams {
  /** Flywheel's origin; callbacks go to `/wechat/callback` and `/wecom/callback` under it. */
  callbackBaseUrl: string;
  /** `messageMode`: what the console is set to, so what the callbacks look like (default safe). */
  officialAccount: { appId: string; token: string; aesKey: string; messageMode?: OfficialAccountMessageMode };
  wecom: { corpId: string; token: string; aesKey: string };
  /** The platform whose state the actions change first (followers, contacts), as WeChat would. */
  platform: SandboxState;
  clock?: Clock;
  timeoutMs?: number;
}

/** One HTTP request exactly as sent, so it can be sent again byte for byte. */
export interface PlayedRequest {
  url: string;
  body: string;
}

export interface PlayResult {
  /** Flywheel's HTTP status and answer (`success`, '' or a passive reply). */
  status: number;
  body: string;
  /** The message's plain XML (inside the encrypted envelope in safe and compatible mode). */
  xml: string;
  request: PlayedRequest;
}

export type OfficialAccountPlayResult = PlayResult & { openid: string };
export type WecomPlayResult = PlayResult & { externalUserId: string };

export interface SandboxPlayer {
  subscribe(p?: { scene?: string; openid?: string; unionid?: string | null; createTime?: number }): Promise<OfficialAccountPlayResult>;
  unsubscribe(p: { openid: string; createTime?: number }): Promise<OfficialAccountPlayResult>;
  sendText(p: { openid: string; content: string; msgId?: string; createTime?: number }): Promise<OfficialAccountPlayResult>;
  clickMenu(p: { openid: string; key: string; createTime?: number }): Promise<OfficialAccountPlayResult>;
  /** A 扫一扫 menu button (scancode_waitmsg, or scancode_push with `push`) scanned a code. */
  scanWithMenu(p: { openid: string; key: string; result: string; push?: boolean; createTime?: number }): Promise<OfficialAccountPlayResult>;
  scan(p: { openid: string; scene: string; createTime?: number }): Promise<OfficialAccountPlayResult>;
  /**
   * The follower answered a subscribe-message popup (subscribe_msg_popup_event): the platform
   * records the answers first (an accept is one grant for bizsend), then pushes the event, whose
   * List is one element per template (parsed as an object for one, an array for several).
   */
  answerSubscribePopup(p: {
    openid: string;
    answers: { templateId: string; status: 'accept' | 'reject' }[];
    /** PopupScene: 0 mini-program page, 1 after a payment, 2 an article (default). */
    popupScene?: string;
    createTime?: number;
  }): Promise<OfficialAccountPlayResult>;
  /** The follower changed a subscription in the account's settings (subscribe_msg_change_event); a reject takes every grant away. */
  changeSubscription(p: {
    openid: string;
    answers: { templateId: string; status: 'accept' | 'reject' }[];
    createTime?: number;
  }): Promise<OfficialAccountPlayResult>;
  /** The platform's report on sent subscribe messages (subscribe_msg_sent_event); the platform state is not changed. */
  reportSubscribeSent(p: {
    openid: string;
    items: { templateId: string; msgId: string; errorCode: number; errorStatus: string }[];
    createTime?: number;
  }): Promise<OfficialAccountPlayResult>;
  addExternalContact(p: {
    userId: string;
    state?: string;
    unionid?: string | null;
    externalUserId?: string;
    name?: string;
    createTime?: number;
  }): Promise<WecomPlayResult>;
  /**
   * The member deleted the customer (`del_external_contact`), or the customer deleted the member
   * (`del_follow_user`).
   */
  removeExternalContact(p: {
    userId: string;
    externalUserId: string;
    by: 'member' | 'customer';
    createTime?: number;
  }): Promise<WecomPlayResult>;
  /** A member changed the customer's corp tags in the WeCom client: the platform pushes edit_external_contact. */
  editExternalContactTags(p: {
    userId: string;
    externalUserId: string;
    addTagIds?: string[];
    removeTagIds?: string[];
    createTime?: number;
  }): Promise<WecomPlayResult>;
  /** Tags were created/changed/deleted in the admin console; the platform state is not changed. */
  changeExternalTag(p: {
    changeType: 'create' | 'update' | 'delete' | 'shuffle';
    tagIds: string[];
    tagType?: 'tag' | 'tag_group';
    createTime?: number;
  }): Promise<PlayResult>;
  /**
   * The platform's report on a mass send (MASSSENDJOBFINISH, "事件推送群发结果"), from the
   * account's mass-send sender: `send success`, `send fail` or `err(num)`, and its counts.
   */
  massSendJobFinish(p: {
    msgId: number | string;
    status: string;
    totalCount: number;
    filterCount: number;
    sentCount: number;
    errorCount: number;
    createTime?: number;
  }): Promise<OfficialAccountPlayResult>;
  /**
   * Sends a played request again with the same URL and body bytes, as WeChat does when it got no
   * answer in 5 seconds: "微信服务器在五秒内收不到响应会断掉连接，并且重新发起请求，总共重试三次".
   */
  replay(played: PlayResult | PlayedRequest): Promise<PlayResult>;
  /**
   * The plain XML of an Official Account passive reply (opened when Flywheel answered the encrypted
   * envelope, as it does to encrypted callbacks), or null when it is none.
   */
  openReply(body: string): string | null;
}

/**
 * Plays follower and customer actions into Flywheel's callback URLs the way the platform does.
 * Official Account, in the console's message mode: every request has `signature` over [token,
 * timestamp, nonce] and `openid` in the query; safe mode adds `encrypt_type=aes` and
 * `msg_signature` over [token, timestamp, nonce, Encrypt], with only ToUserName and Encrypt in
 * the body; compatible mode the same query with the plaintext fields and Encrypt in the body; plain
 * mode posts the plaintext XML alone. WeCom is always encrypted (`msg_signature`, body with
 * ToUserName, AgentID, Encrypt).
 * @link https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Message_encryption_and_decryption_instructions.html
 * @link https://developer.work.weixin.qq.com/document/path/90968
 * @link https://developer.work.weixin.qq.com/document/path/92130
 */
export function createSandboxPlayer(params: SandboxPlayerParams): SandboxPlayer {
  const clock = params.clock ?? systemClock;
  const state = params.platform;
  const baseUrl = params.callbackBaseUrl.replace(/\/+$/, '');
  const oaCrypto = new MessageCrypto({
    token: params.officialAccount.token,
    encodingAesKey: params.officialAccount.aesKey,
    receiveId: params.officialAccount.appId,
  });
  const messageMode = params.officialAccount.messageMode ?? 'safe';
  const wecomCrypto = new MessageCrypto({ token: params.wecom.token, encodingAesKey: params.wecom.aesKey, receiveId: params.wecom.corpId });
  const http = axios.create({
    timeout: params.timeoutMs ?? 15_000,
    responseType: 'text',
    transformResponse: [(data: unknown) => data],
    validateStatus: () => true,
    maxRedirects: 0,
  });
  let msgCounter = 0;

  const post = async (request: PlayedRequest, xml: string): Promise<PlayResult> => {
    const response = await http.post<string>(request.url, request.body, { headers: { 'Content-Type': 'text/xml' } });
    return { status: response.status, body: typeof response.data === 'string' ? response.data : '', xml, request };
  };

  const secondsOf = (createTime: number | undefined): number => createTime ?? Math.floor(clock.now().getTime() / 1000);

  const playOfficialAccount = async (
    fields: XmlBuildFields,
    openid: string,
    createTime: number | undefined,
  ): Promise<OfficialAccountPlayResult> => {
    const message: XmlBuildFields = {
      ToUserName: state.officialAccount.originalId,
      FromUserName: openid,
      CreateTime: secondsOf(createTime),
      ...fields,
    };
    const xml = buildXml(message);
    // What the follower did opens their customer-service window on the platform, as WeChat keeps it.
    state.customMessages.noteCallback(
      openid,
      typeof fields.MsgType === 'string' ? fields.MsgType : '',
      typeof fields.Event === 'string' ? fields.Event : undefined,
      Number(message.CreateTime),
    );
    const timestamp = String(Math.floor(clock.now().getTime() / 1000));
    const nonce = String(randomInt(100_000_000, 2_000_000_000));
    const signature = computeSha1Signature([params.officialAccount.token, timestamp, nonce]);
    if (messageMode === 'plain') {
      const query = new URLSearchParams({ signature, timestamp, nonce, openid });
      return { ...(await post({ url: `${baseUrl}/wechat/callback?${query.toString()}`, body: xml }, xml)), openid };
    }
    const encrypted = oaCrypto.encrypt(xml);
    const query = new URLSearchParams({
      signature,
      timestamp,
      nonce,
      openid,
      encrypt_type: 'aes',
      msg_signature: oaCrypto.sign(timestamp, nonce, encrypted),
    });
    const body = buildXml(
      messageMode === 'compatible'
        ? { ...message, Encrypt: encrypted }
        : { ToUserName: state.officialAccount.originalId, Encrypt: encrypted },
    );
    return { ...(await post({ url: `${baseUrl}/wechat/callback?${query.toString()}`, body }, xml)), openid };
  };

  const playWecom = async (fields: XmlBuildFields, createTime: number | undefined): Promise<PlayResult> => {
    const xml = buildXml({
      ToUserName: params.wecom.corpId,
      // Customer-contact pushes come from the system, never from a member.
      FromUserName: 'sys',
      CreateTime: secondsOf(createTime),
      MsgType: 'event',
      ...fields,
    });
    const timestamp = String(Math.floor(clock.now().getTime() / 1000));
    const nonce = String(randomInt(100_000_000, 2_000_000_000));
    const encrypted = wecomCrypto.encrypt(xml);
    const query = new URLSearchParams({ msg_signature: wecomCrypto.sign(timestamp, nonce, encrypted), timestamp, nonce });
    const body = buildXml({ ToUserName: params.wecom.corpId, AgentID: state.wecom.agentId, Encrypt: encrypted });
    return post({ url: `${baseUrl}/wecom/callback?${query.toString()}`, body }, xml);
  };

  /** MsgId is a 64-bit integer written bare; ids are kept below 2^53 so they survive as JS numbers. */
  const nextMsgId = (): string => {
    msgCounter = (msgCounter + 1) % 1000;
    return String(clock.now().getTime() * 1000 + msgCounter);
  };

  return {
    async subscribe(p = {}) {
      const follower = state.addFollower({
        ...(p.openid === undefined ? {} : { openid: p.openid }),
        ...(p.unionid === undefined ? {} : { unionid: p.unionid }),
        ...(p.scene === undefined ? {} : { scene: p.scene }),
      });
      // "用户未关注时，进行关注后的事件推送": EventKey is qrscene_ + the scene, with the QR Ticket.
      const fields: XmlBuildFields =
        p.scene === undefined
          ? { MsgType: 'event', Event: 'subscribe', EventKey: '' }
          : { MsgType: 'event', Event: 'subscribe', EventKey: `qrscene_${p.scene}`, Ticket: sandboxTicket(p.scene) };
      return playOfficialAccount(fields, follower.openid, p.createTime);
    },

    async unsubscribe(p) {
      state.unsubscribeFollower(p.openid);
      return playOfficialAccount({ MsgType: 'event', Event: 'unsubscribe', EventKey: '' }, p.openid, p.createTime);
    },

    async sendText(p) {
      const msgId = p.msgId ?? nextMsgId();
      const bare = /^\d+$/.test(msgId) && Number.isSafeInteger(Number(msgId));
      return playOfficialAccount({ MsgType: 'text', Content: p.content, MsgId: bare ? Number(msgId) : msgId }, p.openid, p.createTime);
    },

    async clickMenu(p) {
      return playOfficialAccount({ MsgType: 'event', Event: 'CLICK', EventKey: p.key }, p.openid, p.createTime);
    },

    async scanWithMenu(p) {
      return playOfficialAccount(
        {
          MsgType: 'event',
          Event: p.push ? 'scancode_push' : 'scancode_waitmsg',
          EventKey: p.key,
          ScanCodeInfo: { ScanType: 'qrcode', ScanResult: p.result },
        },
        p.openid,
        p.createTime,
      );
    },

    async scan(p) {
      // "用户已关注时的事件推送": Event SCAN, EventKey is the scene without the qrscene_ prefix.
      return playOfficialAccount(
        { MsgType: 'event', Event: 'SCAN', EventKey: p.scene, Ticket: sandboxTicket(p.scene) },
        p.openid,
        p.createTime,
      );
    },

    async answerSubscribePopup(p) {
      for (const a of p.answers) state.messages.answerSubscribe('subscribe/bizsend', p.openid, a.templateId, a.status);
      const list = p.answers.map((a) => ({
        TemplateId: a.templateId,
        SubscribeStatusString: a.status,
        PopupScene: p.popupScene ?? '2',
      }));
      return playOfficialAccount(
        { MsgType: 'event', Event: 'subscribe_msg_popup_event', SubscribeMsgPopupEvent: { List: list } },
        p.openid,
        p.createTime,
      );
    },

    async changeSubscription(p) {
      // Turning a subscription back on grants nothing by itself: a one-time grant comes from a popup's accept.
      for (const a of p.answers)
        if (a.status === 'reject') state.messages.answerSubscribe('subscribe/bizsend', p.openid, a.templateId, 'off');
      const list = p.answers.map((a) => ({ TemplateId: a.templateId, SubscribeStatusString: a.status }));
      return playOfficialAccount(
        { MsgType: 'event', Event: 'subscribe_msg_change_event', SubscribeMsgChangeEvent: { List: list } },
        p.openid,
        p.createTime,
      );
    },

    async reportSubscribeSent(p) {
      const list = p.items.map((i) => ({ TemplateId: i.templateId, MsgID: i.msgId, ErrorCode: i.errorCode, ErrorStatus: i.errorStatus }));
      return playOfficialAccount(
        { MsgType: 'event', Event: 'subscribe_msg_sent_event', SubscribeMsgSentEvent: { List: list } },
        p.openid,
        p.createTime,
      );
    },

    async addExternalContact(p) {
      const contact = state.addExternalContact({
        followUserId: p.userId,
        ...(p.externalUserId === undefined ? {} : { externalUserId: p.externalUserId }),
        ...(p.unionid === undefined ? {} : { unionid: p.unionid }),
        ...(p.name === undefined ? {} : { name: p.name }),
        ...(p.state === undefined ? {} : { state: p.state }),
      });
      const result = await playWecom(
        {
          Event: 'change_external_contact',
          ChangeType: 'add_external_contact',
          UserID: p.userId,
          ExternalUserID: contact.externalUserId,
          ...(p.state === undefined ? {} : { State: p.state }),
          // A fresh single-use code, valid 20 s (send_welcome_msg).
          WelcomeCode: state.channelCodes.issueWelcomeCode(contact.externalUserId, p.userId),
        },
        p.createTime,
      );
      return { ...result, externalUserId: contact.externalUserId };
    },

    async removeExternalContact(p) {
      state.removeFollowUser(p);
      const changeType = p.by === 'member' ? 'del_external_contact' : 'del_follow_user';
      const result = await playWecom(
        { Event: 'change_external_contact', ChangeType: changeType, UserID: p.userId, ExternalUserID: p.externalUserId },
        p.createTime,
      );
      return { ...result, externalUserId: p.externalUserId };
    },

    async editExternalContactTags(p) {
      state.markTag({
        userId: p.userId,
        externalUserId: p.externalUserId,
        addTagIds: p.addTagIds ?? [],
        removeTagIds: p.removeTagIds ?? [],
      });
      const result = await playWecom(
        { Event: 'change_external_contact', ChangeType: 'edit_external_contact', UserID: p.userId, ExternalUserID: p.externalUserId },
        p.createTime,
      );
      return { ...result, externalUserId: p.externalUserId };
    },

    async changeExternalTag(p) {
      const tagType = p.tagType ?? (p.changeType === 'shuffle' ? 'tag_group' : 'tag');
      return playWecom(
        {
          Event: 'change_external_tag',
          Id: p.tagIds,
          // shuffle carries no TagType: its Id is the group whose tags were reordered.
          ...(p.changeType === 'shuffle' ? {} : { TagType: tagType }),
          ChangeType: p.changeType,
        },
        p.createTime,
      );
    },

    async massSendJobFinish(p) {
      return playOfficialAccount(
        {
          MsgType: 'event',
          Event: 'MASSSENDJOBFINISH',
          MsgID: String(p.msgId),
          Status: p.status,
          TotalCount: p.totalCount,
          FilterCount: p.filterCount,
          SentCount: p.sentCount,
          ErrorCount: p.errorCount,
          // Not an original article check: nothing judged a reprint (CheckState 1).
          CopyrightCheckResult: { Count: 0, ResultList: '', CheckState: 1 },
        },
        SANDBOX_MASS_SENDER_OPENID,
        p.createTime,
      );
    },

    async replay(played) {
      const request = 'request' in played ? played.request : played;
      const xml = 'xml' in played ? played.xml : '';
      return post(request, xml);
    },

    openReply(body) {
      if (!body.trimStart().startsWith('<')) return null;
      try {
        const reply = parseXmlMessage(body);
        const encrypted = readText(reply, 'Encrypt');
        // A plaintext callback (plain mode) gets its reply in plaintext.
        if (encrypted === undefined) return readText(reply, 'MsgType') === undefined ? null : body;
        return oaCrypto.decrypt(encrypted);
      } catch {
        // 'success' or a body that is no envelope: nothing to show.
        return null;
      }
    },
  };
}

/**
 * FromUserName of the sandbox's MASSSENDJOBFINISH: WeChat sends it from an openid of the account
 * (the docs' samples), not from a follower the mass send reached.
 */
export const SANDBOX_MASS_SENDER_OPENID = 'o_sandbox_mass_sender';

function sandboxTicket(scene: string): string {
  return `gQSANDBOX${Buffer.from(scene, 'utf8').toString('base64url')}`;
}

/** What `POST /sandbox/actions` and `npm run sandbox` accept. */
export const sandboxActionSchema = z.object({
  /**
   * scan_channel: a person scans a channel code by its scene (`ch:<id>`): an Official Account QR
   * code plays subscribe with `qrscene_<scene>` (or SCAN when `openid` names a follower), a WeCom
   * contact way plays add_external_contact with its State and a WelcomeCode.
   */
  action: z.enum([
    'subscribe',
    'unsubscribe',
    'text',
    'click',
    'menu_scan',
    'scan',
    'add_external_contact',
    'subscribe_popup',
    'scan_channel',
  ]),
  scene: z.string().min(1).max(64).optional(),
  openid: z.string().min(1).max(64).optional(),
  content: z.string().min(1).max(2048).optional(),
  key: z.string().min(1).max(128).optional(),
  /** What a menu_scan read from the code. */
  scanResult: z.string().min(1).max(512).optional(),
  userId: z.string().min(1).max(64).optional(),
  state: z.string().min(1).max(30).optional(),
  unionid: z.string().min(1).max(64).optional(),
  externalUserId: z.string().min(1).max(64).optional(),
  /** subscribe_popup: the template ids the popup asked for, comma-separated. */
  templateIds: z.string().min(1).max(512).optional(),
  /** subscribe_popup: the follower's answer to every template of the popup (accept by default). */
  answer: z.enum(['accept', 'reject']).optional(),
});
export type SandboxAction = z.infer<typeof sandboxActionSchema>;

export interface SandboxActionResult {
  ok: boolean;
  /** Flywheel's HTTP status for the played callback. */
  status: number;
  /** Flywheel's answer body (a passive reply is encrypted XML). */
  reply: string;
  /** The passive reply decrypted, when Flywheel answered one. */
  replyXml?: string;
  openid?: string;
  externalUserId?: string;
}

/** The WeCom member who adds customers when the action names none. */
export const SANDBOX_DEFAULT_USER_ID = 'sandbox-sales';

/**
 * The sandbox's refusals, as `{ok: false, error, code, params}`: the admin page's sandbox panel
 * shows the sentence `errors.<code>` (server/http/error-codes.ts lists these with the API's codes).
 */
export const SANDBOX_ERROR_CODES = [
  'sandbox_no_follower',
  'sandbox_action_needs',
  'sandbox_bad_action',
  'sandbox_bad_request',
  'sandbox_no_player',
  'sandbox_no_clock',
  'sandbox_callback_failed',
  'sandbox_unknown_code',
] as const;

export type SandboxErrorCode = (typeof SANDBOX_ERROR_CODES)[number];

/** Thrown when an action lacks what it needs; the HTTP endpoint answers 400 with the message, its code and params. */
export class SandboxActionError extends Error {
  constructor(
    message: string,
    readonly code: 'sandbox_no_follower' | 'sandbox_action_needs' | 'sandbox_unknown_code',
    readonly params: Record<string, string> = {},
  ) {
    super(message);
  }
}

/**
 * Runs one action; actions that target a follower default to the latest subscriber, so
 * `npm run sandbox -- subscribe` then `npm run sandbox -- text --content hi` just works.
 */
export async function runSandboxAction(player: SandboxPlayer, state: SandboxState, action: SandboxAction): Promise<SandboxActionResult> {
  const follower = (): string => {
    const openid = action.openid ?? state.latestFollower()?.openid;
    if (openid === undefined) throw new SandboxActionError('no follower yet: run subscribe first or pass openid', 'sandbox_no_follower');
    return openid;
  };
  const need = (value: string | undefined, name: string): string => {
    if (value === undefined)
      throw new SandboxActionError(`${action.action} needs ${name}`, 'sandbox_action_needs', { action: action.action, field: name });
    return value;
  };
  let played: PlayResult & { openid?: string; externalUserId?: string };
  switch (action.action) {
    case 'subscribe':
      played = await player.subscribe({
        ...(action.scene === undefined ? {} : { scene: action.scene }),
        ...(action.openid === undefined ? {} : { openid: action.openid }),
        ...(action.unionid === undefined ? {} : { unionid: action.unionid }),
      });
      break;
    case 'unsubscribe':
      played = await player.unsubscribe({ openid: follower() });
      break;
    case 'text':
      played = await player.sendText({ openid: follower(), content: need(action.content, 'content') });
      break;
    case 'click':
      played = await player.clickMenu({ openid: follower(), key: need(action.key, 'key') });
      break;
    case 'menu_scan':
      played = await player.scanWithMenu({
        openid: follower(),
        key: need(action.key, 'key'),
        result: need(action.scanResult, 'scanResult'),
      });
      break;
    case 'scan':
      played = await player.scan({ openid: follower(), scene: need(action.scene, 'scene') });
      break;
    case 'subscribe_popup': {
      const templateIds = need(action.templateIds, 'templateIds')
        .split(',')
        .map((id) => id.trim())
        .filter((id) => id !== '');
      played = await player.answerSubscribePopup({
        openid: follower(),
        answers: templateIds.map((templateId) => ({ templateId, status: action.answer ?? 'accept' })),
      });
      break;
    }
    case 'add_external_contact':
      played = await player.addExternalContact({
        userId: action.userId ?? SANDBOX_DEFAULT_USER_ID,
        ...(action.state === undefined ? {} : { state: action.state }),
        ...(action.unionid === undefined ? {} : { unionid: action.unionid }),
        ...(action.externalUserId === undefined ? {} : { externalUserId: action.externalUserId }),
      });
      break;
    case 'scan_channel': {
      const scene = need(action.scene, 'scene');
      const qr = state.channelCodes.findQrCodeByScene(scene);
      const way = qr ? null : state.channelCodes.findContactWayByState(scene);
      if (qr) {
        const known = action.openid === undefined ? undefined : state.followers.get(action.openid);
        // "用户已关注时" the platform pushes SCAN; otherwise the scan makes them follow.
        played = known?.subscribed
          ? await player.scan({ openid: known.openid, scene })
          : await player.subscribe({
              scene,
              ...(action.openid === undefined ? {} : { openid: action.openid }),
              ...(action.unionid === undefined ? {} : { unionid: action.unionid }),
            });
      } else if (way) {
        played = await player.addExternalContact({
          userId: action.userId ?? way.userIds[0] ?? SANDBOX_DEFAULT_USER_ID,
          state: scene,
          ...(action.unionid === undefined ? {} : { unionid: action.unionid }),
          ...(action.externalUserId === undefined ? {} : { externalUserId: action.externalUserId }),
        });
      } else {
        throw new SandboxActionError(`no live channel code has the scene ${scene}`, 'sandbox_unknown_code', { scene });
      }
      break;
    }
  }
  // The sandbox panel shows the passive reply as the follower would read it, not the envelope.
  const replyXml = played.externalUserId !== undefined ? null : player.openReply(played.body);
  return {
    ok: played.status >= 200 && played.status < 300,
    status: played.status,
    reply: played.body,
    ...(replyXml === null ? {} : { replyXml }),
    ...(played.openid === undefined ? {} : { openid: played.openid }),
    ...(played.externalUserId === undefined ? {} : { externalUserId: played.externalUserId }),
  };
}
