/**
 * The sidebar's words: zh-CN (the default; reps work in Chinese) with English beside it, a flat
 * catalogue and a small `t` like the public pages' (web/mobile/messages.ts), for the same reason:
 * vue-i18n would take a fifth of the first-load budget. The timeline's words, the stages, the
 * channels and the API's error sentences are the admin's own (web/shared/i18n), flattened into
 * the same catalogue, so the sidebar and the contact page say the same thing.
 */
import { interactionTypeLabels } from '../../shared/interaction-types';
import type { Translator } from '../../shared/errors';
import { customerWordsEn, customerWordsZh } from '../../shared/i18n/customer-words';
import zhCNCore from '../../shared/i18n/zh-CN-core';

const zhCN = {
  'app.title': '客户侧边栏',
  'app.loading': '加载中…',
  'app.retry': '重试',
  'app.language': 'English',
  'app.signingIn': '登录已过期，正在重新登录…',

  'profile.identities': '身份',
  'profile.identity.oa': '关注公众号',
  'profile.identity.oaLeft': '已取关公众号',
  'profile.identity.mp': '使用小程序',
  'profile.identity.wecom': '企业微信',
  'profile.source': '来源渠道',
  'profile.noSource': '未知',
  'profile.stage': '阶段',
  'profile.setStage': '调整阶段',
  'profile.stageSet': '阶段已调整为 {stage}',
  'profile.score': '积分',
  'profile.scoreWhy': '积分明细',
  'profile.noLedger': '暂无积分记录',

  'tags.title': '标签',
  'tags.none': '暂无标签',
  'tags.add': '添加标签',
  'tags.remove': '移除 {tag}',
  'tags.pick': '选择要添加的标签',
  'tags.added': '已添加标签 {tag}',
  'tags.removed': '已移除标签 {tag}',
  'tags.noCatalog': '标签列表暂不可用',
  'tags.ungrouped': '未分组',

  'events.title': '活动',
  'events.none': '暂无活动记录',
  'events.registered': '已报名',
  'events.attended': '已签到',
  'events.notAttended': '未签到',
  'events.rating': '满意度 {rating} 分',

  'followUps.title': '待跟进',
  'followUps.none': '暂无待跟进事项',
  'followUps.done': '标记完成',
  'followUps.marked': '已标记完成',
  'followUps.due': '截止 {time}',

  'notes.title': '备注',
  'notes.placeholder': '记录这次沟通的要点',
  'notes.add': '添加备注',
  'notes.added': '备注已保存',
  'notes.none': '暂无备注',
  'notes.empty': '请先填写备注内容',

  'hints.title': '下一步建议',
  'hints.none': '暂无建议',
  'hint.registered_not_checked_in.ended': '报名了“{eventName}”但没有签到：可以问问原因，邀请参加下一场',
  'hint.registered_not_checked_in.started': '“{eventName}”已经开始，客户还没签到：可以提醒一下',
  'hint.registered_not_checked_in.soon': '“{eventName}”即将开始（{startsAt}），客户已报名：可以提醒到场',
  'hint.mql_crossed': '积分达到 {score}，刚超过 MQL 线（{threshold} 分）：可以推进成交',
  'hint.survey_unhappy': '对“{eventName}”的满意度只有 {rating} 分：建议尽快回访',
  'hint.followup_open': '“{eventName}”有一条待跟进事项',
  'hint.silent': '已经 {days} 天没有互动：可以发一份资料唤醒',
  'hint.other': '有一条建议',

  'timeline.title': '动态',
  'timeline.none': '暂无动态',
  'timeline.note': '销售备注',
  'timeline.new': '{count} 条新动态',

  'share.title': '发送到聊天',
  'share.card': '发送名片',
  'share.invite': '发送活动邀请',
  'share.pickEvent': '选择要邀请的活动',
  'share.material': '发送内容',
  'share.pickMaterial': '选择内容中心的素材',
  'share.sent': '已发送到聊天',
  'share.cancelled': '已取消发送',
  'share.failed': '发送失败：{reason}',
  'share.none': '暂无可发送的内容',

  'status.not_your_customer': '该客户不在您的跟进名单中',
  'status.not_your_customer_hint': '只有跟进该客户的销售可以查看；如需接手，请联系管理员分配',
  'status.contact_unknown': 'Flywheel 里还没有这位客户',
  'status.contact_unknown_hint': '客户添加您的企业微信后会自动出现；请稍后再打开',
  'status.error': '加载失败',

  'diag.title.not_in_wecom': '请在企业微信中打开',
  'diag.title.client_too_old': '企业微信版本过旧',
  'diag.title.not_registered_as_app': '页面没有以应用身份注册',
  'diag.title.outside_chat_toolbar': '请从聊天工具栏打开',
  'diag.title.customer_contact_not_set_up': '没有客户联系权限',
  'diag.title.no_customer_context': '当前不是与客户的单聊',
  'diag.title.invalid_signature': 'JS-SDK 签名无效',
  'diag.title.invalid_corp': '企业 ID 不匹配',
  'diag.title.register_failed': 'JS-SDK 注册失败',
  'diag.title.unknown': '企业微信接口调用失败',
  'diag.causes': '可能的原因',
  'diag.fix': '处理方法：',
  'diag.facts': '诊断信息',
  'diag.retry': '重新检测',

  'diag.cause.notInWecom': '本页面没有在企业微信客户端中打开，无法读取当前客户。',
  'diag.fix.notInWecom': '请在企业微信里，从与客户的单聊工具栏（聊天侧边栏）打开本页面。',
  'diag.cause.noAgentConfig': '当前企业微信客户端（版本 {version}）不支持 agentConfig，无法以应用身份注册页面。',
  'diag.fix.upgrade': '请升级企业微信到最新版本（至少 3.0.24）后重新打开。',
  'diag.cause.oldClient': '企业微信 {version} 早于 3.0.24，需要先完成 wx.config 才能调用 agentConfig，这一步失败了。',
  'diag.cause.notRegistered': '页面没有以应用身份完成注册（agentConfig 未成功），客户联系接口因此拒绝调用。',
  'diag.fix.registerAgent': '请检查应用的 AgentId 与 Secret 配置，以及服务器能否获取应用的 jsapi_ticket；修复后重新打开侧边栏。',
  'diag.cause.outsideToolbar': '页面是从 {entry} 打开的，不是从客户单聊的工具栏或客户详情页打开的。',
  'diag.fix.openFromChat': '请从与客户的单聊工具栏打开',
  'diag.cause.appLacksCustomerContact': '应用没有“客户联系”接口权限。',
  'diag.fix.grantCustomerContact': '管理员到 管理后台 → 客户与上下游 → 客户联系 → API → “可调用接口的应用”，把本应用加入。',
  'diag.cause.memberNotSetUp': '您的账号没有开通客户联系功能。',
  'diag.fix.addMember': '管理员到 管理后台 → 客户与上下游 → 客户联系 → 权限配置，把您加入“使用范围”。',
  'diag.cause.outsideVisibleRange': '您不在本应用的可见范围内。',
  'diag.fix.visibleRange': '管理员到 管理后台 → 应用管理 → 本应用 → 可见范围，把您所在的部门或您本人加入。',
  'diag.cause.groupChat': '当前是群聊，侧边栏只能读取单聊中的客户。',
  'diag.cause.workbench': '页面是从工作台打开的，没有正在聊天的客户。',
  'diag.cause.noCustomer': '当前聊天对象不是外部联系人（客户）。',
  'diag.cause.hashSigned': '签名用的 URL 带有 # 之后的部分；签名时必须去掉 #。',
  'diag.fix.signWithoutHash': '签名时使用 # 之前的完整 URL（location.href.split("#")[0]）。',
  'diag.cause.protocol': '签名用的协议是 {signed}，页面实际是 {page}（http 与 https 不同）。',
  'diag.fix.protocol': '请让反向代理转发 X-Forwarded-Proto，并在企业微信后台把应用主页配置为 https 地址。',
  'diag.cause.host': '签名用的域名是 {signed}，页面实际是 {page}。',
  'diag.fix.trustedDomain': '请用企业微信后台“可信域名”中的域名打开本页面，并确认服务器签名时使用同一个域名。',
  'diag.cause.trailingSlash': '签名用的 URL 与页面 URL 只差结尾的“/”。',
  'diag.fix.sameUrl': '签名必须使用页面当前的完整 URL（含查询参数，不含 #）；请对照下方两个 URL。',
  'diag.cause.urlDiffers': '签名用的 URL 与页面当前的 URL 不同。',
  'diag.cause.clockDrift': '签名时间与本机时间相差超过 5 分钟。',
  'diag.fix.clock': '请校准本机或服务器的时间（开启自动对时），然后重新打开。',
  'diag.cause.wrongCorpTicket': 'wx.config 的签名应使用企业的 jsapi_ticket；可能用了应用的 ticket，或 ticket 已失效。',
  'diag.cause.wrongAgentTicket':
    'agentConfig 的签名应使用应用的 jsapi_ticket（type=agent_config）；可能用了企业的 ticket，或 ticket 已失效。',
  'diag.fix.ticket': '请管理员在 Flywheel 的接入配置中检查企业微信的 CorpID、AgentId 与 Secret；ticket 会自动刷新，稍后再试。',
  'diag.cause.invalidCorp': '注册时使用的企业 ID（corpId）与当前登录的企业不一致（40013）。',
  'diag.fix.invalidCorp': '请确认 Flywheel 配置的企业微信 CorpID 就是您当前登录的企业。',
  'diag.cause.configFailed': 'wx.config 注册失败。',
  'diag.cause.agentConfigFailed': 'agentConfig 注册失败。',
  'diag.fix.checkApp': '请管理员检查应用配置（AgentId、可信域名），然后重新打开侧边栏。',
  'diag.cause.unknown': '企业微信返回了一个无法识别的错误。',
  'diag.fix.unknown': '请把下方的诊断信息发给管理员。',
  'diag.fact.errMsg': '企业微信返回',
  'diag.fact.step': '失败的步骤',
  'diag.fact.entry': '打开入口',
  'diag.fact.agentConfig': 'agentConfig',
  'diag.fact.client': '客户端版本',
  'diag.fact.signedUrl': '签名的 URL',
  'diag.fact.pageUrl': '页面的 URL',
  'diag.fact.signedAt': '签名时间戳',
  'diag.fact.deviceClock': '本机时间',
};

export type MessageKey = keyof typeof zhCN;

const en: Record<MessageKey, string> = {
  'app.title': 'Customer sidebar',
  'app.loading': 'Loading…',
  'app.retry': 'Retry',
  'app.language': '中文',
  'app.signingIn': 'Your session expired: signing in again…',

  'profile.identities': 'Identities',
  'profile.identity.oa': 'Follows the Official Account',
  'profile.identity.oaLeft': 'Unfollowed the Official Account',
  'profile.identity.mp': 'Uses the mini-program',
  'profile.identity.wecom': 'WeCom',
  'profile.source': 'Source',
  'profile.noSource': 'Unknown',
  'profile.stage': 'Stage',
  'profile.setStage': 'Set stage',
  'profile.stageSet': 'Stage set to {stage}',
  'profile.score': 'Score',
  'profile.scoreWhy': 'Score ledger',
  'profile.noLedger': 'No score yet',

  'tags.title': 'Tags',
  'tags.none': 'No tags',
  'tags.add': 'Add a tag',
  'tags.remove': 'Remove {tag}',
  'tags.pick': 'Choose a tag to add',
  'tags.added': 'Tag {tag} added',
  'tags.removed': 'Tag {tag} removed',
  'tags.noCatalog': 'The tag list is not available',
  'tags.ungrouped': 'No group',

  'events.title': 'Events',
  'events.none': 'No events',
  'events.registered': 'Registered',
  'events.attended': 'Checked in',
  'events.notAttended': 'Not checked in',
  'events.rating': 'Rated {rating}',

  'followUps.title': 'Follow-ups',
  'followUps.none': 'Nothing to follow up',
  'followUps.done': 'Mark done',
  'followUps.marked': 'Marked done',
  'followUps.due': 'Due {time}',

  'notes.title': 'Notes',
  'notes.placeholder': 'What was said in this conversation',
  'notes.add': 'Add note',
  'notes.added': 'Note saved',
  'notes.none': 'No notes',
  'notes.empty': 'Write the note first',

  'hints.title': 'Next steps',
  'hints.none': 'No suggestions',
  'hint.registered_not_checked_in.ended': 'Registered for “{eventName}” but did not check in: ask why, invite them to the next one',
  'hint.registered_not_checked_in.started': '“{eventName}” has started and they have not checked in: remind them',
  'hint.registered_not_checked_in.soon': '“{eventName}” starts soon ({startsAt}) and they are registered: remind them to come',
  'hint.mql_crossed': 'The score reached {score}, just past the MQL line ({threshold}): move towards a deal',
  'hint.survey_unhappy': 'Rated “{eventName}” only {rating}: call back soon',
  'hint.followup_open': 'An open follow-up from “{eventName}”',
  'hint.silent': 'No interaction for {days} days: send some material to wake them up',
  'hint.other': 'A suggestion',

  'timeline.title': 'Activity',
  'timeline.none': 'No activity yet',
  'timeline.note': 'Sales note',
  'timeline.new': '{count} new',

  'share.title': 'Send to the chat',
  'share.card': 'Send my card',
  'share.invite': 'Send an event invitation',
  'share.pickEvent': 'Choose the event',
  'share.material': 'Send content',
  'share.pickMaterial': 'Choose a material from the content centre',
  'share.sent': 'Sent to the chat',
  'share.cancelled': 'Not sent',
  'share.failed': 'Could not send: {reason}',
  'share.none': 'Nothing to send',

  'status.not_your_customer': 'This customer is not on your list',
  'status.not_your_customer_hint': 'Only the reps who follow this customer can see them; ask an admin to assign them to you',
  'status.contact_unknown': 'Flywheel does not know this customer yet',
  'status.contact_unknown_hint': 'A customer appears once they add you on WeCom; open the sidebar again in a moment',
  'status.error': 'Could not load',

  'diag.title.not_in_wecom': 'Open this page in WeCom',
  'diag.title.client_too_old': 'WeCom is too old',
  'diag.title.not_registered_as_app': 'The page is not registered as the app',
  'diag.title.outside_chat_toolbar': 'Open it from the chat tool bar',
  'diag.title.customer_contact_not_set_up': 'No customer-contact permission',
  'diag.title.no_customer_context': 'This is not a chat with a customer',
  'diag.title.invalid_signature': 'Invalid JS-SDK signature',
  'diag.title.invalid_corp': 'Wrong corp ID',
  'diag.title.register_failed': 'JS-SDK registration failed',
  'diag.title.unknown': 'A WeCom call failed',
  'diag.causes': 'Likely causes',
  'diag.fix': 'What to do: ',
  'diag.facts': 'Diagnostics',
  'diag.retry': 'Check again',

  'diag.cause.notInWecom': 'The page was not opened in the WeCom client, so it cannot see the customer.',
  'diag.fix.notInWecom': 'In WeCom, open it from the tool bar of a one-to-one chat with a customer.',
  'diag.cause.noAgentConfig': 'This WeCom client (version {version}) has no agentConfig: the page cannot register as the app.',
  'diag.fix.upgrade': 'Update WeCom to the latest version (3.0.24 or later) and open the page again.',
  'diag.cause.oldClient': 'WeCom {version} is older than 3.0.24: it needs wx.config before agentConfig, and that step failed.',
  'diag.cause.notRegistered':
    'The page did not register with the app’s identity (agentConfig failed), so the customer-contact APIs refuse it.',
  'diag.fix.registerAgent':
    'Check the app’s AgentId and Secret and that the server can fetch the app’s jsapi_ticket, then reopen the sidebar.',
  'diag.cause.outsideToolbar': 'The page was opened from {entry}, not from a customer chat’s tool bar or profile page.',
  'diag.fix.openFromChat': 'Open it from the tool bar of a one-to-one chat with the customer',
  'diag.cause.appLacksCustomerContact': 'The app has no customer-contact API permission.',
  'diag.fix.grantCustomerContact':
    'An admin adds the app under Admin → Customers & partners → Customer contact → API → “Apps that may call the API”.',
  'diag.cause.memberNotSetUp': 'Your account is not set up for customer contact.',
  'diag.fix.addMember': 'An admin adds you under Admin → Customers & partners → Customer contact → Permissions → “Scope”.',
  'diag.cause.outsideVisibleRange': 'You are outside the app’s visible range.',
  'diag.fix.visibleRange': 'An admin adds you or your department under Admin → Apps → this app → Visible range.',
  'diag.cause.groupChat': 'This is a group chat: the sidebar reads the customer of a one-to-one chat only.',
  'diag.cause.workbench': 'The page was opened from the workbench: no customer is being chatted with.',
  'diag.cause.noCustomer': 'The person in this chat is not an external contact (a customer).',
  'diag.cause.hashSigned': 'The signed URL includes its # part; it must be signed without it.',
  'diag.fix.signWithoutHash': 'Sign the full URL before the # (location.href.split("#")[0]).',
  'diag.cause.protocol': 'The URL was signed as {signed} but the page is {page} (http and https differ).',
  'diag.fix.protocol': 'Have the reverse proxy pass X-Forwarded-Proto, and set the app’s home page to its https address in WeCom.',
  'diag.cause.host': 'The URL was signed for {signed} but the page is on {page}.',
  'diag.fix.trustedDomain': 'Open the page on the app’s trusted domain and make the server sign that same domain.',
  'diag.cause.trailingSlash': 'The signed URL and the page’s differ only by a trailing “/”.',
  'diag.fix.sameUrl': 'The signature must be over the page’s full current URL (with its query, without #): compare the two URLs below.',
  'diag.cause.urlDiffers': 'The signed URL differs from the page’s current URL.',
  'diag.cause.clockDrift': 'The signature’s time and this device’s clock differ by more than 5 minutes.',
  'diag.fix.clock': 'Set the device’s or the server’s clock right (automatic time), then open the page again.',
  'diag.cause.wrongCorpTicket':
    'wx.config must be signed with the corp’s jsapi_ticket; the app’s ticket or an expired one may have been used.',
  'diag.cause.wrongAgentTicket':
    'agentConfig must be signed with the app’s ticket (type=agent_config); the corp’s ticket or an expired one may have been used.',
  'diag.fix.ticket':
    'An admin checks the WeCom CorpID, AgentId and Secret in Flywheel’s setup; tickets refresh themselves, try again shortly.',
  'diag.cause.invalidCorp': 'The corpId registered is not the corp you are signed in to (40013).',
  'diag.fix.invalidCorp': 'Check that the WeCom CorpID configured in Flywheel is the corp you are signed in to.',
  'diag.cause.configFailed': 'wx.config failed.',
  'diag.cause.agentConfigFailed': 'agentConfig failed.',
  'diag.fix.checkApp': 'An admin checks the app’s settings (AgentId, trusted domain), then reopen the sidebar.',
  'diag.cause.unknown': 'WeCom answered with an error the page does not know.',
  'diag.fix.unknown': 'Send the diagnostics below to an admin.',
  'diag.fact.errMsg': 'WeCom said',
  'diag.fact.step': 'Failed step',
  'diag.fact.entry': 'Opened from',
  'diag.fact.agentConfig': 'agentConfig',
  'diag.fact.client': 'Client version',
  'diag.fact.signedUrl': 'Signed URL',
  'diag.fact.pageUrl': 'Page URL',
  'diag.fact.signedAt': 'Signature timestamp',
  'diag.fact.deviceClock': 'Device clock',
};

export type Locale = 'zh-CN' | 'en';

/** The sidebar's own sentences in both languages, for the tests that check they match. */
export const SIDEBAR_MESSAGES = { 'zh-CN': zhCN, en } as const;

/** A nested catalogue's strings under dotted keys (`timeline.actors.rule`), as the admin's translator reads them. */
export function flatten(tree: object, prefix = '', out: Record<string, string> = {}): Record<string, string> {
  for (const [key, value] of Object.entries(tree) as [string, unknown][]) {
    if (typeof value === 'string') out[prefix + key] = value;
    else if (typeof value === 'object' && value !== null) flatten(value, `${prefix}${key}.`, out);
  }
  return out;
}

/** The shared parts of the admin's catalogue in one language (errors, stages, channels come with it). */
export interface SharedWords {
  errors: object;
  stages: object;
  channels: object;
}

/** A translator over the sidebar's sentences and the shared ones: `{name}` placeholders; a missing key reads as itself. */
export function catalogueFor(
  locale: Locale,
  shared: SharedWords,
): Translator & { tk: (key: MessageKey, params?: Record<string, string | number>) => string } {
  const lang = locale === 'en' ? 'en' : 'zh';
  const common = lang === 'en' ? customerWordsEn : customerWordsZh;
  const flat: Record<string, string> = {
    ...flatten({
      timeline: common.timeline,
      lifecycle: common.lifecycle,
      labels: common.labels,
      customer: { kinds: common.customerKinds },
      interactionTypes: interactionTypeLabels(lang),
      errors: shared.errors,
      stages: shared.stages,
      channels: shared.channels,
    }),
    ...SIDEBAR_MESSAGES[locale],
  };
  const t = (key: string, params?: Record<string, unknown>): string => {
    const text = flat[key] ?? key;
    return text.replace(/\{(\w+)\}/g, (whole, name: string) => {
      const value = params?.[name];
      return typeof value === 'string' || typeof value === 'number' ? String(value) : whole;
    });
  };
  return { has: (key) => key in flat, t, tk: (key, params) => t(key, params) };
}

/** zh-CN's shared words ship with the page; English's come with en.ts, fetched when a rep switches. */
export const ZH_SHARED: SharedWords = { errors: zhCNCore.errors, stages: zhCNCore.stages, channels: zhCNCore.channels };

export async function loadEnglishShared(): Promise<SharedWords> {
  const en = (await import('../../shared/i18n/en')).default;
  return { errors: en.errors, stages: en.stages, channels: en.channels };
}
