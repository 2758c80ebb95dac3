import { z } from 'zod';
import type { Logger } from './logger';
import { createPlatformHttp, type AccessTokenSource, type PlatformHttp } from './platform-http';
import type { RateLimiter } from './rate-limiter';
import type { TokenStore } from './token-store';

export interface WecomClientParams {
  /** WECOM_API_BASE or WECOM_API_BASE_DEFAULT. */
  baseUrl: string;
  corpId: string;
  /** The customer-contact (客户联系) secret: only it may call externalcontact/*. */
  secret: string;
  tokenStore: TokenStore;
  rateLimiter: RateLimiter;
  logger: Logger;
  timeoutMs?: number;
}

export interface WecomFollowUser {
  /** The member (sales rep) who added the customer. */
  userId: string;
  /** The `state` of the contact way the customer added through. */
  state: string | null;
  /** Seconds since the epoch. */
  createTime: number;
  /** Corp tags (type 1) only; personal and rule tags are the member's own. */
  tagIds: string[];
}

export interface WecomExternalContact {
  externalUserId: string;
  name: string | null;
  avatarUrl: string | null;
  unionid: string | null;
  followUsers: WecomFollowUser[];
}

export interface WecomCorpTagGroup {
  groupId: string;
  groupName: string;
  tags: { id: string; name: string; deleted: boolean }[];
}

export interface MarkTagParams {
  userId: string;
  externalUserId: string;
  addTagIds: string[];
  removeTagIds: string[];
}

export interface AddCorpTagParams {
  /** Creates the group when no group of that name exists (ignored when groupId is given). */
  groupName: string;
  groupId?: string;
  tagNames: string[];
}

/** One customer's line of get_groupmsg_send_result. */
export interface GroupMsgSendStatus {
  externalUserId: string;
  /** "0-未发送 1-已发送 2-因客户不是好友导致发送失败 3-因客户已经收到其他群发消息导致发送失败". */
  status: number;
  /** Seconds since the epoch, when sent; null otherwise. */
  sendTime: number | null;
}

/** The message of a 企业群发 to customers (text and/or attachments), without its recipients. */
export interface GroupMsgContent {
  text?: { content: string };
  attachments?: unknown[];
}

/** follow_user[].tags[].type: "该成员添加此外部联系人所打标签类型, 1-企业设置，2-用户自定义，3-规则组标签". */
const CORP_TAG_TYPE = 1;

const ipListSchema = z.object({ ip_list: z.array(z.string()) });
const tokenSchema = z.object({ access_token: z.string().min(1), expires_in: z.number().int().positive() });
const okSchema = z.object({});
const externalContactSchema = z.object({
  external_contact: z.object({
    external_userid: z.string(),
    name: z.string().optional(),
    avatar: z.string().optional(),
    unionid: z.string().optional(),
  }),
  follow_user: z
    .array(
      z.object({
        userid: z.string(),
        createtime: z.number().int(),
        state: z.string().optional(),
        tags: z.array(z.object({ tag_id: z.string().optional(), type: z.number().int() })).optional(),
      }),
    )
    .optional(),
  next_cursor: z.string().optional(),
});
const addMsgTemplateSchema = z.object({ msgid: z.string().min(1), fail_list: z.array(z.string()).optional() });
const groupMsgSendResultSchema = z.object({
  send_list: z
    .array(z.object({ external_userid: z.string().optional(), status: z.number().int(), send_time: z.number().int().optional() }))
    .optional(),
  next_cursor: z.string().optional(),
});
const corpTagSchema = z.object({ id: z.string(), name: z.string(), deleted: z.boolean().optional() });
const corpTagListSchema = z.object({
  tag_group: z.array(z.object({ group_id: z.string(), group_name: z.string(), tag: z.array(corpTagSchema) })),
});
const addCorpTagSchema = z.object({
  tag_group: z.object({ group_id: z.string(), group_name: z.string(), tag: z.array(corpTagSchema) }),
});

const contactWaySchema = z.object({ config_id: z.string().min(1), qr_code: z.string().optional() });

/** follow_user pages: "当客户在企业内的跟进人超过500人时需要使用cursor参数进行分页获取". */
const MAX_FOLLOW_USER_PAGES = 100;
/** A task to 10,000 customers is 10 pages of 1,000; more is a loop, not a task. */
const MAX_SEND_RESULT_PAGES = 20;

/**
 * WeCom customer contact (客户联系) server API.
 * @link https://developer.work.weixin.qq.com/document/path/91039 (gettoken)
 * @link https://developer.work.weixin.qq.com/document/path/92114 (externalcontact/get)
 * @link https://developer.work.weixin.qq.com/document/path/92117 (corp tags)
 * @link https://developer.work.weixin.qq.com/document/path/92118 (mark_tag)
 * @link https://developer.work.weixin.qq.com/document/path/92135 (add_msg_template)
 * @link https://developer.work.weixin.qq.com/document/path/93338 (get_groupmsg_send_result, cancel_groupmsg_send)
 */
export class WecomClient {
  private readonly http: PlatformHttp;
  private readonly accessToken: AccessTokenSource;

  constructor(params: WecomClientParams) {
    const { corpId, secret } = params;
    this.http = createPlatformHttp(params);
    this.accessToken = {
      key: `wecom:${corpId}:contact:access_token`,
      // "access_token的有效期通过返回的expires_in来传达 ... 有效期内重复获取返回相同结果，过期后获取会
      // 返回新的access_token" — there is no force mode to use.
      fetch: async () => {
        const answer = await this.http.call('gettoken', {
          method: 'GET',
          path: '/cgi-bin/gettoken',
          query: { corpid: corpId, corpsecret: secret },
          schema: tokenSchema,
        });
        return { value: answer.access_token, expiresInSeconds: answer.expires_in };
      },
    };
  }

  /** Where the shared access_token lives in the token store. */
  get accessTokenKey(): string {
    return this.accessToken.key;
  }

  /**
   * The IPs of WeCom's API domain: a cheap call needing a valid access_token, for the setup check.
   * @link https://developer.work.weixin.qq.com/document/path/92520
   */
  async getApiDomainIp(): Promise<string[]> {
    const answer = await this.http.call('get_api_domain_ip', {
      method: 'GET',
      path: '/cgi-bin/get_api_domain_ip',
      accessToken: this.accessToken,
      schema: ipListSchema,
    });
    return answer.ip_list;
  }

  async getExternalContact(externalUserId: string): Promise<WecomExternalContact> {
    const followUsers: WecomFollowUser[] = [];
    let cursor = '';
    let contact: z.infer<typeof externalContactSchema>['external_contact'] | null = null;
    for (let page = 0; page < MAX_FOLLOW_USER_PAGES; page += 1) {
      const answer = await this.http.call('externalcontact/get', {
        method: 'GET',
        path: '/cgi-bin/externalcontact/get',
        query: cursor === '' ? { external_userid: externalUserId } : { external_userid: externalUserId, cursor },
        accessToken: this.accessToken,
        schema: externalContactSchema,
      });
      contact = answer.external_contact;
      for (const follow of answer.follow_user ?? []) {
        followUsers.push({
          userId: follow.userid,
          state: nonEmpty(follow.state),
          createTime: follow.createtime,
          tagIds: (follow.tags ?? []).flatMap((tag) => (tag.type === CORP_TAG_TYPE && tag.tag_id ? [tag.tag_id] : [])),
        });
      }
      cursor = answer.next_cursor ?? '';
      if (cursor === '') break;
    }
    if (!contact) throw new Error('externalcontact/get returned no page');
    return {
      externalUserId: contact.external_userid,
      name: nonEmpty(contact.name),
      avatarUrl: nonEmpty(contact.avatar),
      unionid: nonEmpty(contact.unionid),
      followUsers,
    };
  }

  /** "add_tag和remove_tag不可同时为空" — an empty change is not sent. */
  async markTag(p: MarkTagParams): Promise<void> {
    if (p.addTagIds.length === 0 && p.removeTagIds.length === 0) return;
    await this.http.call('externalcontact/mark_tag', {
      method: 'POST',
      path: '/cgi-bin/externalcontact/mark_tag',
      body: { userid: p.userId, external_userid: p.externalUserId, add_tag: p.addTagIds, remove_tag: p.removeTagIds },
      accessToken: this.accessToken,
      schema: okSchema,
    });
  }

  /** "若tag_id和group_id均为空，则返回所有标签。同时传递tag_id和group_id时，忽略tag_id". */
  async getCorpTagList(p: { tagIds?: string[]; groupIds?: string[] } = {}): Promise<WecomCorpTagGroup[]> {
    const answer = await this.http.call('externalcontact/get_corp_tag_list', {
      method: 'POST',
      path: '/cgi-bin/externalcontact/get_corp_tag_list',
      body: {
        ...(p.tagIds && p.tagIds.length > 0 ? { tag_id: p.tagIds } : {}),
        ...(p.groupIds && p.groupIds.length > 0 ? { group_id: p.groupIds } : {}),
      },
      accessToken: this.accessToken,
      schema: corpTagListSchema,
    });
    return answer.tag_group.map((group) => ({
      groupId: group.group_id,
      groupName: group.group_name,
      tags: group.tag.map((tag) => ({ id: tag.id, name: tag.name, deleted: tag.deleted === true })),
    }));
  }

  /** Renames a corp tag or a tag group ("id: 标签或标签组的id"); 40068: no such tag. */
  async editCorpTag(p: { id: string; name: string }): Promise<void> {
    await this.http.call('externalcontact/edit_corp_tag', {
      method: 'POST',
      path: '/cgi-bin/externalcontact/edit_corp_tag',
      body: { id: p.id, name: p.name },
      accessToken: this.accessToken,
      schema: okSchema,
    });
  }

  /** "tag_id和group_id不可同时为空"; deleting every tag of a group deletes the group. */
  async deleteCorpTags(p: { tagIds: string[]; groupIds: string[] }): Promise<void> {
    if (p.tagIds.length === 0 && p.groupIds.length === 0) return;
    await this.http.call('externalcontact/del_corp_tag', {
      method: 'POST',
      path: '/cgi-bin/externalcontact/del_corp_tag',
      body: { ...(p.tagIds.length > 0 ? { tag_id: p.tagIds } : {}), ...(p.groupIds.length > 0 ? { group_id: p.groupIds } : {}) },
      accessToken: this.accessToken,
      schema: okSchema,
    });
  }

  /**
   * A contact-way QR code (联系我, scene 2): adds through it carry its `state` in the
   * add_external_contact event. Returns the config_id (to update or delete it) and the qr_code URL.
   * @link https://developer.work.weixin.qq.com/document/path/92228
   */
  async addContactWay(p: AddContactWayParams): Promise<{ configId: string; qrCode: string }> {
    const answer = await this.http.call('externalcontact/add_contact_way', {
      method: 'POST',
      path: '/cgi-bin/externalcontact/add_contact_way',
      body: {
        type: p.type,
        scene: 2,
        style: 1,
        skip_verify: true,
        state: p.state,
        user: p.userIds,
        ...(p.remark ? { remark: p.remark } : {}),
      },
      accessToken: this.accessToken,
      schema: contactWaySchema,
    });
    return { configId: answer.config_id, qrCode: answer.qr_code ?? '' };
  }

  /** The contact way's QR image, fetched from the qr_code URL the platform gave (never a URL from anyone else). */
  async fetchContactWayQr(qrCodeUrl: string): Promise<Buffer> {
    const { bytes } = await this.http.fetchBytes('contact_way_qr', { method: 'GET', url: qrCodeUrl });
    return bytes;
  }

  /**
   * The welcome message of one add: "welcome_code ... 有效期为20秒"; errcode 41051 "externaluserid
   * has started chatting" / the code was already used: it is never retried.
   * @link https://developer.work.weixin.qq.com/document/path/92137
   */
  async sendWelcomeMsg(p: { welcomeCode: string; text: string }): Promise<void> {
    await this.http.call('externalcontact/send_welcome_msg', {
      method: 'POST',
      path: '/cgi-bin/externalcontact/send_welcome_msg',
      body: { welcome_code: p.welcomeCode, text: { content: p.text } },
      accessToken: this.accessToken,
      schema: okSchema,
    });
  }

  /**
   * "如果要向指定的标签组下添加标签，需要填写group_id参数；如果要创建一个全新的标签组以及标签，则需要通过
   * group_name参数指定新标签组名称，如果填写的groupname已经存在，则会在此标签组下新建标签".
   */
  async addCorpTag(p: AddCorpTagParams): Promise<{ groupId: string; groupName: string; tags: { id: string; name: string }[] }> {
    const answer = await this.http.call('externalcontact/add_corp_tag', {
      method: 'POST',
      path: '/cgi-bin/externalcontact/add_corp_tag',
      body: {
        ...(p.groupId === undefined ? { group_name: p.groupName } : { group_id: p.groupId }),
        tag: p.tagNames.map((name) => ({ name })),
      },
      accessToken: this.accessToken,
      schema: addCorpTagSchema,
    });
    const group = answer.tag_group;
    return { groupId: group.group_id, groupName: group.group_name, tags: group.tag.map((tag) => ({ id: tag.id, name: tag.name })) };
  }

  /**
   * Creates a 企业群发 task for the member `sender` to the customers given; nothing is sent until the
   * member confirms it in the WeCom client. WeCom takes no key for it: a repeated call makes a
   * second task. `failList`: customers left out ("无效或无法发送的external_userid列表"); none left
   * is refused with 41048.
   */
  async addMsgTemplate(p: {
    sender: string;
    externalUserIds: string[];
    content: GroupMsgContent;
  }): Promise<{ msgid: string; failList: string[] }> {
    const answer = await this.http.call('externalcontact/add_msg_template', {
      method: 'POST',
      path: '/cgi-bin/externalcontact/add_msg_template',
      body: { chat_type: 'single', external_userid: p.externalUserIds, sender: p.sender, ...p.content },
      accessToken: this.accessToken,
      schema: addMsgTemplateSchema,
    });
    return { msgid: answer.msgid, failList: answer.fail_list ?? [] };
  }

  /** Per customer, whether the member's part of task `msgid` was sent; every page ("limit 最大值1000"). */
  async getGroupMsgSendResult(p: { msgid: string; userId: string }): Promise<GroupMsgSendStatus[]> {
    const out: GroupMsgSendStatus[] = [];
    let cursor = '';
    for (let page = 0; page < MAX_SEND_RESULT_PAGES; page += 1) {
      const answer = await this.http.call('externalcontact/get_groupmsg_send_result', {
        method: 'POST',
        path: '/cgi-bin/externalcontact/get_groupmsg_send_result',
        body: { msgid: p.msgid, userid: p.userId, limit: 1000, ...(cursor === '' ? {} : { cursor }) },
        accessToken: this.accessToken,
        schema: groupMsgSendResultSchema,
      });
      for (const line of answer.send_list ?? []) {
        // Lines of a customer-group task carry chat_id instead: not ours.
        if (line.external_userid === undefined) continue;
        out.push({ externalUserId: line.external_userid, status: line.status, sendTime: line.send_time ? line.send_time : null });
      }
      cursor = answer.next_cursor ?? '';
      if (cursor === '') break;
    }
    return out;
  }

  /** Withdraws a task its member has not confirmed ("停止企业群发"), so that it cannot leave later. */
  async cancelGroupMsgSend(msgid: string): Promise<void> {
    await this.http.call('externalcontact/cancel_groupmsg_send', {
      method: 'POST',
      path: '/cgi-bin/externalcontact/cancel_groupmsg_send',
      body: { msgid },
      accessToken: this.accessToken,
      schema: okSchema,
    });
  }
}

export interface AddContactWayParams {
  /** 1 单人 (one member), 2 多人 (several). */
  type: 1 | 2;
  userIds: string[];
  /** "企业自定义的state参数，用于区分不同的添加渠道 ... 不超过30个字符". */
  state: string;
  remark?: string;
}

function nonEmpty(value: string | undefined): string | null {
  return value === undefined || value === '' ? null : value;
}
