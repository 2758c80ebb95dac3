import { randomBytes } from 'node:crypto';
import { SandboxErrcode } from './sandbox-errcode';
import { systemClock, type Clock } from '../clock';
import { SandboxGroupMessages } from './sandbox-group-messages';
import { SandboxMessages } from './sandbox-messages';
import { SandboxCustomMessages } from './sandbox-custom-messages';
import { SandboxChannelCodes } from './sandbox-channel-codes';
import { SandboxWebOauth } from './sandbox-web-oauth';
import { SandboxWecomApp } from './sandbox-wecom-app';

/**
 * The fake platform's memory: accounts, tokens, followers, tags, external contacts, mini-program
 * logins, and a log of every API call. It lives in memory on purpose: it stands in for WeChat's
 * servers, not for Flywheel's database.
 */

export interface SandboxCredentials {
  officialAccount: { appId: string; secret: string };
  wecom: { corpId: string; secret: string; agentId: string; agentSecret: string };
  miniprogram: { appId: string; secret: string };
}

export interface SandboxFollower {
  openid: string;
  unionid: string | null;
  nickname: string | null;
  subscribed: boolean;
  /** Seconds since the epoch. */
  subscribeTime: number;
  subscribeScene: string;
  /** The scene string of the QR code followed through, '' when none. */
  qrSceneStr: string;
  tagIds: number[];
}

export interface SandboxOaTag {
  id: number;
  name: string;
}

export interface SandboxFollowUser {
  userId: string;
  state: string | null;
  createTime: number;
  tagIds: string[];
}

export interface SandboxExternalContact {
  externalUserId: string;
  name: string;
  avatar: string;
  unionid: string | null;
  followUsers: SandboxFollowUser[];
}

export interface SandboxCorpTag {
  id: string;
  name: string;
  createTime: number;
  order: number;
  deleted: boolean;
}

export interface SandboxCorpTagGroup {
  groupId: string;
  groupName: string;
  createTime: number;
  order: number;
  deleted: boolean;
  tags: SandboxCorpTag[];
}

export interface SandboxCall {
  /** The API name the adapters use, e.g. `user/info`, `externalcontact/mark_tag`. */
  api: string;
  /** The JSON body of a POST, or the query of a GET; access_token left out, secrets as `***`. */
  body: unknown;
  at: Date;
}

/** `mp`: the mini-program's access_token (stable_token with the mini-program's appid and secret). */
export type SandboxTokenOwner = 'oa' | 'mp' | 'wecom' | 'wecom-agent';

/** OA `ticket/getticket?type=jsapi`, WeCom `get_jsapi_ticket` (wx.config), WeCom `ticket/get?type=agent_config` (wx.agentConfig). */
export type SandboxTicketKind = 'oa-jsapi' | 'wecom-jsapi' | 'wecom-agent-config';

/** "access_token 的有效期目前为 2 个小时" (expires_in 7200), on every platform. */
export const SANDBOX_TOKEN_TTL_SECONDS = 7200;

/** "jsapi_ticket的有效期为7200秒" on both platforms. */
export const SANDBOX_TICKET_TTL_SECONDS = 7200;

/**
 * Limits of the Official Account tag API the sandbox enforces.
 * @link https://developers.weixin.qq.com/doc/offiaccount/User_Management/User_Tag_Management.html
 */
export const OA_TAG_LIMITS = Object.freeze({
  /** "一个公众号，最多可以创建100个标签" → 45056. */
  tagsPerAccount: 100,
  /** "每个用户最多可以打上20个标签" → 45059. */
  tagsPerUser: 20,
  /** 45158 "标签名长度超过30个字节". */
  nameBytes: 30,
  /** 40032 "每次传入的openid列表个数不能超过50个". */
  openidsPerBatch: 50,
  /** Ids 0, 1, 2 are the system tags; created tags start above them. */
  firstTagId: 100,
});

interface IssuedToken {
  owner: SandboxTokenOwner;
  expiresAt: number;
}

export class SandboxState {
  readonly officialAccount: SandboxCredentials['officialAccount'] & { originalId: string };
  readonly wecom: SandboxCredentials['wecom'];
  readonly miniprogram: SandboxCredentials['miniprogram'];
  readonly clock: Clock;

  readonly calls: SandboxCall[] = [];
  readonly followers = new Map<string, SandboxFollower>();
  readonly oaTags = new Map<number, SandboxOaTag>();
  readonly externalContacts = new Map<string, SandboxExternalContact>();
  readonly corpTagGroups: SandboxCorpTagGroup[] = [];
  /** Template messages sent, with client_msg_id, quotas and lost answers (sandbox-messages.ts). */
  readonly messages: SandboxMessages;
  /** Customer-service messages and each follower's 48-hour window (sandbox-custom-messages.ts). */
  readonly customMessages: SandboxCustomMessages;
  /** WeCom 企业群发 tasks waiting for their rep, and what each customer got (sandbox-group-messages.ts). */
  readonly groupMessages: SandboxGroupMessages;
  /** Channel codes: QR codes, contact ways, welcome codes, mini-program codes (sandbox-channel-codes.ts). */
  readonly channelCodes: SandboxChannelCodes;
  /** Official Account web OAuth: the authorize page's codes and their one redemption (sandbox-web-oauth.ts). */
  readonly webOauth: SandboxWebOauth;
  /** The WeCom self-built app: OAuth2 codes, its settings, the sidebar's current chat (sandbox-wecom-app.ts). */
  readonly wecomApp: SandboxWecomApp;

  private nextOaTagId = OA_TAG_LIMITS.firstTagId;
  private readonly tokens = new Map<string, IssuedToken>();
  private readonly currentToken = new Map<SandboxTokenOwner, string>();
  private readonly failures = new Map<string, { errcode: number; remaining: number }>();
  private readonly delays = new Map<string, number>();
  /** Every ticket issued, with its expiry: the JS-SDK double checks signatures against the live ones. */
  private readonly tickets = new Map<SandboxTicketKind, { ticket: string; expiresAt: number }[]>();
  private readonly loginCodes = new Map<string, { openid: string; unionid: string | null; used: boolean }>();
  /** Mini-program users the platform knows (logged in, or added by a test): subscribe/send answers 40003 to others. */
  readonly miniProgramUsers = new Set<string>();

  constructor(credentials: SandboxCredentials, clock: Clock = systemClock) {
    this.officialAccount = { ...credentials.officialAccount, originalId: `gh_${randomHex(12)}` };
    this.wecom = { ...credentials.wecom };
    this.miniprogram = { ...credentials.miniprogram };
    this.clock = clock;
    this.messages = new SandboxMessages(clock);
    this.customMessages = new SandboxCustomMessages(clock);
    this.groupMessages = new SandboxGroupMessages(clock, this.externalContacts);
    this.channelCodes = new SandboxChannelCodes(clock);
    this.webOauth = new SandboxWebOauth(clock);
    this.wecomApp = new SandboxWecomApp(clock);
  }

  // --- error injection -------------------------------------------------------------------------

  /** The next `times` calls of `api` answer `errcode` instead of working. */
  failNext(api: string, errcode: number, times = 1): void {
    this.failures.set(api, { errcode, remaining: times });
  }

  /** The next call of `api` answers only after `ms` (to make a client time out). */
  delayNext(api: string, ms: number): void {
    this.delays.set(api, ms);
  }

  /** Used by the HTTP layer: what to do to this call, consuming the injection. */
  takeInjection(api: string): { errcode: number | null; delayMs: number } {
    const delayMs = this.delays.get(api) ?? 0;
    this.delays.delete(api);
    const failure = this.failures.get(api);
    if (!failure) return { errcode: null, delayMs };
    failure.remaining -= 1;
    if (failure.remaining <= 0) this.failures.delete(api);
    return { errcode: failure.errcode, delayMs };
  }

  recordCall(api: string, body: unknown): void {
    this.calls.push({ api, body, at: this.clock.now() });
  }

  callsTo(api: string): SandboxCall[] {
    return this.calls.filter((call) => call.api === api);
  }

  // --- tokens ----------------------------------------------------------------------------------

  /**
   * Same token until it expires, unless forced: "普通模式，access_token 有效期内重复调用该接口不会
   * 更新 access_token ... 强制刷新模式，会导致上次获取的 access_token 失效，并返回新的 access_token".
   */
  issueToken(owner: SandboxTokenOwner, forceRefresh: boolean): { accessToken: string; expiresIn: number } {
    const now = this.clock.now().getTime();
    const current = this.currentToken.get(owner);
    const issued = current === undefined ? undefined : this.tokens.get(current);
    if (current !== undefined && issued && issued.expiresAt > now && !forceRefresh) {
      return { accessToken: current, expiresIn: Math.ceil((issued.expiresAt - now) / 1000) };
    }
    if (current !== undefined) this.tokens.delete(current);
    const accessToken = randomToken(owner);
    this.tokens.set(accessToken, { owner, expiresAt: now + SANDBOX_TOKEN_TTL_SECONDS * 1000 });
    this.currentToken.set(owner, accessToken);
    return { accessToken, expiresIn: SANDBOX_TOKEN_TTL_SECONDS };
  }

  /** Throws the platform's errcode for a missing (41001), unknown (40001 / WeCom 40014) or expired (42001) token. */
  checkToken(token: string | undefined, owners: readonly SandboxTokenOwner[]): void {
    if (token === undefined || token === '') throw new SandboxErrcode(41001);
    const issued = this.tokens.get(token);
    const unknown = owners.includes('oa') || owners.includes('mp') ? 40001 : 40014;
    if (!issued || !owners.includes(issued.owner)) throw new SandboxErrcode(unknown);
    if (issued.expiresAt <= this.clock.now().getTime()) throw new SandboxErrcode(42001);
  }

  /** Who holds a token (null: unknown); the endpoint has checked it already. */
  tokenOwner(token: string | undefined): SandboxTokenOwner | null {
    return token === undefined ? null : (this.tokens.get(token)?.owner ?? null);
  }

  /** The corp's members the sandbox knows: named by a sign-in, or following an external contact. */
  wecomMemberIds(): string[] {
    const ids = new Set(this.wecomApp.members);
    for (const contact of this.externalContacts.values()) for (const follow of contact.followUsers) ids.add(follow.userId);
    return [...ids].sort();
  }

  /** Every issued token stops working, as after a force refresh by someone else or a secret reset. */
  revokeTokens(): void {
    this.tokens.clear();
    this.currentToken.clear();
  }

  /**
   * A new ticket on every call, so a test sees each fetch that slipped past the shared cache: the
   * platform limits these calls hard ("一小时内，一个企业最多可获取 400 次，且单个应用不能超过 100 次").
   */
  issueTicket(kind: SandboxTicketKind): { ticket: string; expiresIn: number } {
    const ticket = `SBX_${kind.toUpperCase().replace(/-/g, '_')}_${randomBase64Url(80)}`;
    const now = this.clock.now().getTime();
    const live = (this.tickets.get(kind) ?? []).filter((t) => t.expiresAt > now);
    live.push({ ticket, expiresAt: now + SANDBOX_TICKET_TTL_SECONDS * 1000 });
    this.tickets.set(kind, live);
    return { ticket, expiresIn: SANDBOX_TICKET_TTL_SECONDS };
  }

  /** The tickets of `kind` still within their 7,200 s, newest last. */
  liveTickets(kind: SandboxTicketKind): string[] {
    const now = this.clock.now().getTime();
    return (this.tickets.get(kind) ?? []).filter((t) => t.expiresAt > now).map((t) => t.ticket);
  }

  // --- Official Account --------------------------------------------------------------------------

  /** Creates (or re-subscribes) a follower; ids are random in the platform's shapes when absent. */
  addFollower(
    p: { openid?: string; unionid?: string | null; nickname?: string | null; scene?: string; subscribed?: boolean } = {},
  ): SandboxFollower {
    const openid = p.openid ?? randomOpenid();
    const existing = this.followers.get(openid);
    const follower: SandboxFollower = {
      openid,
      unionid: p.unionid === undefined ? (existing?.unionid ?? randomOpenid()) : p.unionid,
      nickname: p.nickname === undefined ? (existing?.nickname ?? null) : p.nickname,
      subscribed: p.subscribed ?? true,
      subscribeTime: Math.floor(this.clock.now().getTime() / 1000),
      subscribeScene: p.scene === undefined ? 'ADD_SCENE_SEARCH' : 'ADD_SCENE_QR_CODE',
      qrSceneStr: p.scene ?? '',
      tagIds: existing?.tagIds ?? [],
    };
    this.followers.set(openid, follower);
    return follower;
  }

  unsubscribeFollower(openid: string): void {
    const follower = this.followers.get(openid);
    if (follower) follower.subscribed = false;
  }

  /** The follower subscribed most recently (the CLI's default target). */
  latestFollower(): SandboxFollower | null {
    let latest: SandboxFollower | null = null;
    for (const follower of this.followers.values()) {
      if (follower.subscribed && (!latest || follower.subscribeTime >= latest.subscribeTime)) latest = follower;
    }
    return latest;
  }

  createOaTag(name: string): SandboxOaTag {
    if (name.trim() === '') throw new SandboxErrcode(45158, 'tag name is empty');
    if (Buffer.byteLength(name, 'utf8') > OA_TAG_LIMITS.nameBytes) throw new SandboxErrcode(45158);
    if ([...this.oaTags.values()].some((tag) => tag.name === name)) throw new SandboxErrcode(45157);
    if (this.oaTags.size >= OA_TAG_LIMITS.tagsPerAccount) throw new SandboxErrcode(45056);
    const tag = { id: this.nextOaTagId, name };
    this.nextOaTagId += 1;
    this.oaTags.set(tag.id, tag);
    return tag;
  }

  renameOaTag(tagId: number, name: string): void {
    const tag = this.oaTags.get(tagId);
    if (!tag) throw new SandboxErrcode(45159);
    if (name.trim() === '' || Buffer.byteLength(name, 'utf8') > OA_TAG_LIMITS.nameBytes) throw new SandboxErrcode(45158);
    if ([...this.oaTags.values()].some((t) => t.name === name && t.id !== tagId)) throw new SandboxErrcode(45157);
    tag.name = name;
  }

  /** The tag goes, and so does every follower's membership. */
  deleteOaTag(tagId: number): void {
    if (!this.oaTags.delete(tagId)) throw new SandboxErrcode(45159);
    for (const follower of this.followers.values()) follower.tagIds = follower.tagIds.filter((id) => id !== tagId);
  }

  /** All-or-nothing, as the platform checks the whole list before tagging anyone. */
  changeOaTagMembers(op: 'tag' | 'untag', tagId: number, openids: string[]): void {
    if (openids.length === 0 || openids.length > OA_TAG_LIMITS.openidsPerBatch) throw new SandboxErrcode(40032);
    if (!this.oaTags.has(tagId)) throw new SandboxErrcode(45159);
    const followers = openids.map((openid) => {
      const follower = this.followers.get(openid);
      if (!follower) throw new SandboxErrcode(40003);
      return follower;
    });
    if (op === 'tag') {
      const full = followers.some((f) => !f.tagIds.includes(tagId) && f.tagIds.length >= OA_TAG_LIMITS.tagsPerUser);
      if (full) throw new SandboxErrcode(45059);
      for (const f of followers) if (!f.tagIds.includes(tagId)) f.tagIds.push(tagId);
    } else {
      for (const f of followers) f.tagIds = f.tagIds.filter((id) => id !== tagId);
    }
  }

  // --- WeCom customer contact ----------------------------------------------------------------------

  /** Seeds an external contact added by member `followUserId` (or adds that member to an existing one). */
  addExternalContact(p: {
    externalUserId?: string;
    unionid?: string | null;
    name?: string;
    followUserId: string;
    state?: string | null;
  }): SandboxExternalContact {
    const externalUserId = p.externalUserId ?? randomExternalUserId();
    const existing = this.externalContacts.get(externalUserId);
    const contact: SandboxExternalContact = existing ?? {
      externalUserId,
      name: p.name ?? `客户${externalUserId.slice(-4)}`,
      avatar: `https://wework.qpic.cn/sandbox/${externalUserId}/0`,
      unionid: p.unionid === undefined ? randomOpenid() : p.unionid,
      followUsers: [],
    };
    if (existing && p.name !== undefined) contact.name = p.name;
    if (existing && p.unionid !== undefined) contact.unionid = p.unionid;
    if (!contact.followUsers.some((f) => f.userId === p.followUserId)) {
      contact.followUsers.push({
        userId: p.followUserId,
        state: p.state ?? null,
        createTime: Math.floor(this.clock.now().getTime() / 1000),
        tagIds: [],
      });
    }
    this.externalContacts.set(externalUserId, contact);
    return contact;
  }

  /** The member and the customer are no longer connected (either side deleted the other). */
  removeFollowUser(p: { externalUserId: string; userId: string }): void {
    const contact = this.externalContacts.get(p.externalUserId);
    if (contact) contact.followUsers = contact.followUsers.filter((f) => f.userId !== p.userId);
  }

  findCorpTag(tagId: string): { group: SandboxCorpTagGroup; tag: SandboxCorpTag } | null {
    for (const group of this.corpTagGroups) {
      const tag = group.tags.find((t) => t.id === tagId && !t.deleted);
      if (tag && !group.deleted) return { group, tag };
    }
    return null;
  }

  /**
   * add_corp_tag: "如果要向指定的标签组下添加标签，需要填写group_id参数；如果要创建一个全新的标签组以及
   * 标签，则需要通过group_name参数指定新标签组名称，如果填写的groupname已经存在，则会在此标签组下新建标签".
   * Returns the group with only the tags created now, as the API does.
   */
  addCorpTags(p: { groupId?: string; groupName?: string; tagNames: string[] }): { group: SandboxCorpTagGroup; created: SandboxCorpTag[] } {
    const now = Math.floor(this.clock.now().getTime() / 1000);
    let group: SandboxCorpTagGroup | undefined;
    if (p.groupId !== undefined) {
      group = this.corpTagGroups.find((g) => g.groupId === p.groupId && !g.deleted);
      if (!group) throw new SandboxErrcode(40068);
    } else {
      const name = p.groupName ?? '';
      if (name === '' || name.length > 30) throw new SandboxErrcode(40072);
      group = this.corpTagGroups.find((g) => g.groupName === name && !g.deleted);
    }
    const names = p.tagNames.map((n) => n.trim());
    if (names.some((n) => n === '' || n.length > 30)) throw new SandboxErrcode(40072);
    const taken = new Set(group?.tags.filter((t) => !t.deleted).map((t) => t.name) ?? []);
    if (names.some((n, i) => taken.has(n) || names.indexOf(n) !== i)) throw new SandboxErrcode(40071);
    if (!group) {
      group = { groupId: randomCorpTagId(), groupName: p.groupName ?? '', createTime: now, order: 0, deleted: false, tags: [] };
      this.corpTagGroups.push(group);
    }
    const created = names.map((name) => ({ id: randomCorpTagId(), name, createTime: now, order: 0, deleted: false }));
    group.tags.push(...created);
    return { group, created };
  }

  /** edit_corp_tag: the id names a tag or a tag group. */
  editCorpTag(id: string, name: string): void {
    if (name.trim() === '' || name.length > 30) throw new SandboxErrcode(40072);
    const group = this.corpTagGroups.find((g) => g.groupId === id && !g.deleted);
    if (group) {
      group.groupName = name;
      return;
    }
    const found = this.findCorpTag(id);
    if (!found) throw new SandboxErrcode(40068);
    if (found.group.tags.some((t) => t.name === name && t.id !== id && !t.deleted)) throw new SandboxErrcode(40071);
    found.tag.name = name;
  }

  /** del_corp_tag: tags and whole groups are marked deleted and taken off every customer. */
  deleteCorpTags(tagIds: string[], groupIds: string[]): void {
    if (tagIds.length === 0 && groupIds.length === 0) throw new SandboxErrcode(40058, 'tag_id and group_id are both empty');
    const gone = new Set<string>();
    for (const group of this.corpTagGroups) {
      if (group.deleted) continue;
      for (const tag of group.tags) {
        if (!tag.deleted && (groupIds.includes(group.groupId) || tagIds.includes(tag.id))) {
          tag.deleted = true;
          gone.add(tag.id);
        }
      }
      // "若删除的标签组下没有标签，则标签组会被删除" — and a deleted group takes its tags along.
      if (groupIds.includes(group.groupId) || group.tags.every((t) => t.deleted)) group.deleted = true;
    }
    for (const contact of this.externalContacts.values()) {
      for (const follow of contact.followUsers) follow.tagIds = follow.tagIds.filter((id) => !gone.has(id));
    }
  }

  markTag(p: { userId: string; externalUserId: string; addTagIds: string[]; removeTagIds: string[] }): void {
    const contact = this.externalContacts.get(p.externalUserId);
    if (!contact) throw new SandboxErrcode(40096);
    const follow = contact.followUsers.find((f) => f.userId === p.userId);
    if (!follow) throw new SandboxErrcode(84061);
    if (p.addTagIds.length === 0 && p.removeTagIds.length === 0) throw new SandboxErrcode(40058, 'add_tag and remove_tag are both empty');
    if ([...p.addTagIds, ...p.removeTagIds].some((id) => !this.findCorpTag(id))) throw new SandboxErrcode(40068);
    follow.tagIds = [...new Set([...follow.tagIds, ...p.addTagIds])].filter((id) => !p.removeTagIds.includes(id));
  }

  // --- mini-program ------------------------------------------------------------------------------

  /** A wx.login code for a mini-program user (a new one when openid is absent). */
  issueLoginCode(p: { openid?: string; unionid?: string | null } = {}): { code: string; openid: string; unionid: string | null } {
    const code = randomBase64Url(24);
    const entry = { openid: p.openid ?? randomOpenid(), unionid: p.unionid === undefined ? randomOpenid() : p.unionid, used: false };
    this.loginCodes.set(code, entry);
    this.miniProgramUsers.add(entry.openid);
    return { code, openid: entry.openid, unionid: entry.unionid };
  }

  /**
   * code2Session: a code works once (40163 "code been used"). A code the sandbox never issued is
   * taken as a new user's, so the mini-program's simulator can log in without seeding.
   */
  redeemLoginCode(code: string): { openid: string; unionid: string | null; sessionKey: string } {
    if (code === '') throw new SandboxErrcode(40029);
    let entry = this.loginCodes.get(code);
    if (!entry) {
      entry = { openid: randomOpenid(), unionid: randomOpenid(), used: false };
      this.loginCodes.set(code, entry);
    }
    if (entry.used) throw new SandboxErrcode(40163, 'code been used');
    entry.used = true;
    this.miniProgramUsers.add(entry.openid);
    return { openid: entry.openid, unionid: entry.unionid, sessionKey: randomBytes(16).toString('base64') };
  }
}

/** openid / unionid: 28 characters starting with `o`, like `oLVPpjqs9BhvzwPj5A-vTYAX3GLc`. */
export function randomOpenid(): string {
  return `o${randomBase64Url(27)}`;
}

/** external_userid: 32 characters starting with `wm`, like `wmAJ2GCAAAXtWyujaWJHDDGi0mACHAAA`. */
export function randomExternalUserId(): string {
  return `wm${randomBase64Url(30)}`;
}

/** Corp tag and tag group ids start with `et`. */
function randomCorpTagId(): string {
  return `et${randomBase64Url(20)}`;
}

function randomToken(owner: SandboxTokenOwner): string {
  return `SBX_${owner.toUpperCase().replace('-', '_')}_${randomBase64Url(96)}`;
}

function randomBase64Url(length: number): string {
  return randomBytes(Math.ceil((length * 3) / 4) + 1)
    .toString('base64url')
    .slice(0, length);
}

function randomHex(length: number): string {
  return randomBytes(Math.ceil(length / 2))
    .toString('hex')
    .slice(0, length);
}
