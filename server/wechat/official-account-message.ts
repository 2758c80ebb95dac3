import { compactKey, digestFields } from './dedupe-key';
import { ProtocolError } from './protocol-error';
import type { XmlFields } from './xml';
import { readElements, readNonEmpty, readNumber, readText } from './xml-read';

/**
 * Inbound Official Account messages and event pushes, after decryption.
 * @link https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_standard_messages.html
 * @link https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_event_pushes.html
 * @link https://developers.weixin.qq.com/doc/offiaccount/Subscription_Messages/api.html
 */
export interface OfficialAccountMessageBase {
  /** The account's original id (gh_...). */
  toUserName: string;
  /** The user's openid. */
  fromUserName: string;
  /** Seconds since the epoch. */
  createTime: number;
  msgType: string;
  raw: XmlFields;
}

/** MsgId is a 64-bit integer: kept as text because it does not fit a JS number. */
interface WithMsgId {
  msgId: string;
}

/** Ordinary messages about an article carry its data id and, for a multi-article post, its 1-based index. */
interface WithArticleRef {
  /** MsgDataId: "消息的数据ID（消息如果来自文章时才有）". */
  msgDataId?: string;
  /** Idx: "多图文时第几篇文章，从1开始（消息如果来自文章时才有）". */
  idx?: string;
}

interface WithEvent {
  /** The Event field as WeChat sent it (e.g. `subscribe`, `SCAN`). */
  event: string;
}

export interface SubscribeMessageItem {
  templateId: string;
  /** SubscribeStatusString: `accept`, `reject`, or `ban`. */
  status?: string;
  /** PopupScene: 0 mini-program page, 1 payment completed, 2 article (popup event only). */
  popupScene?: string;
  /** MsgID of the sent notification (sent event only). */
  msgId?: string;
  /** ErrorCode / ErrorStatus: result of an asynchronous send (sent event only). */
  errorCode?: string;
  errorStatus?: string;
}

/** One article of a MASSSENDJOBFINISH CopyrightCheckResult (values as WeChat sent them). */
export interface CopyrightCheckItem {
  articleIdx: string;
  /** UserDeclareState: what the author declared (原创 or not). */
  userDeclareState: string;
  /** AuditState: what WeChat's check found. */
  auditState: string;
  /** OriginalArticleUrl: the similar original article. */
  originalArticleUrl: string;
  originalArticleType: string;
  canReprint: string;
  needReplaceContent: string;
  needShowReprintSource: string;
}

/** One article of a MASSSENDJOBFINISH ArticleUrlResult: the URL each sent article got. */
export interface ArticleUrlItem {
  articleIdx: string;
  articleUrl: string;
}

/**
 * MASSSENDJOBFINISH: "事件推送群发结果". Status is `send success`, `send fail` or `err(num)`;
 * FilterCount = SentCount + ErrorCount in principle.
 * @link https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Batch_Sends_and_Originality_Checks.html
 */
export interface MassSendJobFinish {
  kind: 'event.mass_send_job_finish';
  msgId: string;
  status: string;
  totalCount?: number;
  filterCount?: number;
  sentCount?: number;
  errorCount?: number;
  copyrightCheck: {
    count?: number;
    /** CheckState: 1 not judged a reprint, may send; 2 judged a reprint, may send; 3 judged a reprint, may not send. */
    checkState?: string;
    items: CopyrightCheckItem[];
  };
  articleUrls: { count?: number; items: ArticleUrlItem[] };
}

export type OfficialAccountMessage =
  | (OfficialAccountMessageBase & WithMsgId & WithArticleRef & { kind: 'text'; content: string })
  | (OfficialAccountMessageBase & WithMsgId & WithArticleRef & { kind: 'image'; picUrl: string; mediaId: string })
  | (OfficialAccountMessageBase &
      WithMsgId &
      WithArticleRef & {
        kind: 'voice';
        mediaId: string;
        format: string;
        recognition?: string;
        /** MediaId16K: the same voice sampled at 16 kHz. */
        mediaId16K?: string;
      })
  | (OfficialAccountMessageBase & WithMsgId & WithArticleRef & { kind: 'video' | 'shortvideo'; mediaId: string; thumbMediaId: string })
  | (OfficialAccountMessageBase &
      WithMsgId &
      WithArticleRef & { kind: 'location'; latitude: number; longitude: number; scale: number; label: string })
  | (OfficialAccountMessageBase & WithMsgId & WithArticleRef & { kind: 'link'; title: string; description: string; url: string })
  | (OfficialAccountMessageBase & WithEvent & { kind: 'event.subscribe'; eventKey?: string; scene?: string; ticket?: string })
  | (OfficialAccountMessageBase & WithEvent & { kind: 'event.unsubscribe' })
  | (OfficialAccountMessageBase & WithEvent & { kind: 'event.scan'; scene: string; ticket: string })
  | (OfficialAccountMessageBase & WithEvent & { kind: 'event.location'; latitude: number; longitude: number; precision: number })
  | (OfficialAccountMessageBase & WithEvent & { kind: 'event.click'; eventKey: string })
  | (OfficialAccountMessageBase & WithEvent & { kind: 'event.view'; eventKey: string; menuId?: string })
  | (OfficialAccountMessageBase & WithEvent & MenuEvent)
  | (OfficialAccountMessageBase & WithEvent & WithMsgId & { kind: 'event.template_send_job_finish'; status: string })
  | (OfficialAccountMessageBase & WithEvent & MassSendJobFinish)
  | (OfficialAccountMessageBase &
      WithEvent & {
        kind: 'event.subscribe_msg_popup' | 'event.subscribe_msg_change' | 'event.subscribe_msg_sent';
        items: SubscribeMessageItem[];
      })
  | (OfficialAccountMessageBase & { kind: 'unknown'; event?: string; msgId?: string });

export type OfficialAccountMessageKind = OfficialAccountMessage['kind'];

/**
 * The menu buttons that open a WeChat tool and push what it returned, keyed by the button's
 * EventKey; and the button that opens a mini-program.
 * @link https://developers.weixin.qq.com/doc/offiaccount/Custom_Menus/Custom_Menu_Push.html
 */
export type MenuEvent =
  | {
      /** scancode_push (WeChat also acts on the code) or scancode_waitmsg (it waits for a reply). */
      kind: 'event.menu_scan';
      eventKey: string;
      /** ScanCodeInfo.ScanType: `qrcode`, `barcode` ... */
      scanType: string;
      /** ScanCodeInfo.ScanResult: the code's text (a URL, a ticket, a booth code). */
      scanResult: string;
      waitMsg: boolean;
    }
  | {
      /** pic_sysphoto, pic_photo_or_album, pic_weixin: the pictures arrive as image messages too. */
      kind: 'event.menu_pics';
      eventKey: string;
      source: 'sysphoto' | 'photo_or_album' | 'weixin';
      /** SendPicsInfo.Count as sent (it may differ from the list's length). */
      count: number;
      /** SendPicsInfo.PicList.item.PicMd5Sum, one per picture. */
      picMd5Sums: string[];
    }
  | {
      kind: 'event.menu_location';
      eventKey: string;
      /** SendLocationInfo: Location_X is the latitude, Location_Y the longitude. */
      latitude: number;
      longitude: number;
      scale: number;
      label: string;
      /** The place's name, when the user picked one. */
      poiname: string;
    }
  | {
      /** view_miniprogram: EventKey is the page path opened. */
      kind: 'event.view_miniprogram';
      eventKey: string;
      menuId?: string;
    };

/**
 * Kinds whose dedupe key carries the body's digest: two of them in one second with the same
 * EventKey are different events when they say different things (two codes scanned through one
 * button), and until they were parsed they were `unknown` events, keyed so.
 */
const DIGEST_KEYED_KINDS: ReadonlySet<OfficialAccountMessageKind> = new Set([
  'unknown',
  'event.menu_scan',
  'event.menu_pics',
  'event.menu_location',
  'event.view_miniprogram',
]);

const MENU_PICS_SOURCES = { pic_sysphoto: 'sysphoto', pic_photo_or_album: 'photo_or_album', pic_weixin: 'weixin' } as const;

/** "用户未关注时，进行关注后的事件推送" — EventKey is `qrscene_` + the QR code's scene value. */
const QR_SCENE_PREFIX = 'qrscene_';

const SUBSCRIBE_MESSAGE_EVENTS = {
  subscribe_msg_popup_event: { kind: 'event.subscribe_msg_popup', container: 'SubscribeMsgPopupEvent' },
  subscribe_msg_change_event: { kind: 'event.subscribe_msg_change', container: 'SubscribeMsgChangeEvent' },
  subscribe_msg_sent_event: { kind: 'event.subscribe_msg_sent', container: 'SubscribeMsgSentEvent' },
} as const;

/** Turns parsed XML into a typed message; unknown types become `unknown` rather than errors. */
export function parseOfficialAccountMessage(fields: XmlFields): OfficialAccountMessage {
  const base = readBase(fields);
  if (base.msgType.toLowerCase() === 'event') return parseEvent(base, fields) ?? toUnknown(base, fields);
  return parseMessage(base, fields) ?? toUnknown(base, fields);
}

function readBase(fields: XmlFields): OfficialAccountMessageBase {
  const toUserName = readText(fields, 'ToUserName');
  const fromUserName = readText(fields, 'FromUserName');
  const createTime = readNumber(fields, 'CreateTime');
  const msgType = readNonEmpty(fields, 'MsgType');
  if (toUserName === undefined || fromUserName === undefined || msgType === undefined) {
    throw new ProtocolError('malformed_xml', 'message lacks ToUserName, FromUserName or MsgType');
  }
  if (createTime === undefined || !Number.isInteger(createTime)) {
    throw new ProtocolError('malformed_xml', 'message lacks an integer CreateTime');
  }
  return { toUserName, fromUserName, createTime, msgType, raw: fields };
}

/**
 * The docs spell the id `MsgId` on messages and `MsgID` on some events (and in some field
 * tables); WxJava's own fixtures send a text message with `<MsgID>`. Both are accepted everywhere.
 */
function readMsgId(fields: XmlFields): string | undefined {
  return (readNonEmpty(fields, 'MsgId') ?? readNonEmpty(fields, 'MsgID'))?.trim();
}

function toUnknown(base: OfficialAccountMessageBase, fields: XmlFields): OfficialAccountMessage {
  const event = readText(fields, 'Event');
  const msgId = readMsgId(fields);
  return {
    ...base,
    kind: 'unknown',
    ...(event === undefined ? {} : { event }),
    ...(msgId === undefined ? {} : { msgId }),
  };
}

/** Returns undefined when a field the kind cannot do without is missing, so it falls back to `unknown`. */
function parseMessage(base: OfficialAccountMessageBase, fields: XmlFields): OfficialAccountMessage | undefined {
  const msgId = readMsgId(fields);
  if (msgId === undefined) return undefined;
  const msgDataId = readNonEmpty(fields, 'MsgDataId');
  const idx = readNonEmpty(fields, 'Idx');
  const common = {
    ...base,
    msgId,
    ...(msgDataId === undefined ? {} : { msgDataId }),
    ...(idx === undefined ? {} : { idx }),
  };
  const text = (name: string): string => readText(fields, name) ?? '';
  switch (base.msgType) {
    case 'text': {
      const content = readText(fields, 'Content');
      return content === undefined ? undefined : { ...common, kind: 'text', content };
    }
    case 'image': {
      const mediaId = readNonEmpty(fields, 'MediaId');
      return mediaId === undefined ? undefined : { ...common, kind: 'image', picUrl: text('PicUrl'), mediaId };
    }
    case 'voice': {
      const mediaId = readNonEmpty(fields, 'MediaId');
      if (mediaId === undefined) return undefined;
      const recognition = readText(fields, 'Recognition');
      const mediaId16K = readNonEmpty(fields, 'MediaId16K');
      return {
        ...common,
        kind: 'voice',
        mediaId,
        format: text('Format'),
        ...(recognition === undefined ? {} : { recognition }),
        ...(mediaId16K === undefined ? {} : { mediaId16K }),
      };
    }
    case 'video':
    case 'shortvideo': {
      const mediaId = readNonEmpty(fields, 'MediaId');
      if (mediaId === undefined) return undefined;
      return { ...common, kind: base.msgType, mediaId, thumbMediaId: text('ThumbMediaId') };
    }
    case 'location': {
      const latitude = readNumber(fields, 'Location_X');
      const longitude = readNumber(fields, 'Location_Y');
      if (latitude === undefined || longitude === undefined) return undefined;
      const scale = readNumber(fields, 'Scale') ?? 0;
      return { ...common, kind: 'location', latitude, longitude, scale, label: text('Label') };
    }
    case 'link': {
      const url = readNonEmpty(fields, 'Url');
      if (url === undefined) return undefined;
      return { ...common, kind: 'link', title: text('Title'), description: text('Description'), url };
    }
    default:
      return undefined;
  }
}

function parseEvent(base: OfficialAccountMessageBase, fields: XmlFields): OfficialAccountMessage | undefined {
  const event = readNonEmpty(fields, 'Event');
  if (event === undefined) return undefined;
  const common = { ...base, event };
  const eventKey = readNonEmpty(fields, 'EventKey');
  const ticket = readNonEmpty(fields, 'Ticket');
  const name = event.toLowerCase();
  switch (name) {
    case 'subscribe': {
      const scene = eventKey?.startsWith(QR_SCENE_PREFIX) ? eventKey.slice(QR_SCENE_PREFIX.length) : undefined;
      return {
        ...common,
        kind: 'event.subscribe',
        ...(eventKey === undefined ? {} : { eventKey }),
        ...(scene === undefined ? {} : { scene }),
        ...(ticket === undefined ? {} : { ticket }),
      };
    }
    case 'unsubscribe':
      return { ...common, kind: 'event.unsubscribe' };
    case 'scan':
      return { ...common, kind: 'event.scan', scene: readText(fields, 'EventKey') ?? '', ticket: ticket ?? '' };
    case 'location': {
      const latitude = readNumber(fields, 'Latitude');
      const longitude = readNumber(fields, 'Longitude');
      if (latitude === undefined || longitude === undefined) return undefined;
      const precision = readNumber(fields, 'Precision') ?? 0;
      return { ...common, kind: 'event.location', latitude, longitude, precision };
    }
    case 'click':
      return { ...common, kind: 'event.click', eventKey: readText(fields, 'EventKey') ?? '' };
    case 'view': {
      const menuId = readNonEmpty(fields, 'MenuId');
      return {
        ...common,
        kind: 'event.view',
        eventKey: readText(fields, 'EventKey') ?? '',
        ...(menuId === undefined ? {} : { menuId }),
      };
    }
    case 'scancode_push':
    case 'scancode_waitmsg': {
      const [info] = readElements(fields, 'ScanCodeInfo');
      const scanResult = info ? readText(info, 'ScanResult') : undefined;
      if (!info || scanResult === undefined) return undefined;
      return {
        ...common,
        kind: 'event.menu_scan',
        eventKey: eventKey ?? '',
        scanType: readText(info, 'ScanType') ?? '',
        scanResult,
        waitMsg: name === 'scancode_waitmsg',
      };
    }
    case 'pic_sysphoto':
    case 'pic_photo_or_album':
    case 'pic_weixin': {
      const [info] = readElements(fields, 'SendPicsInfo');
      if (!info) return undefined;
      const items = readElements(info, 'PicList').flatMap((list) => readElements(list, 'item'));
      const picMd5Sums = items.map((item) => readText(item, 'PicMd5Sum') ?? '');
      return {
        ...common,
        kind: 'event.menu_pics',
        eventKey: eventKey ?? '',
        source: MENU_PICS_SOURCES[name],
        count: readNumber(info, 'Count') ?? picMd5Sums.length,
        picMd5Sums,
      };
    }
    case 'location_select': {
      const [info] = readElements(fields, 'SendLocationInfo');
      const latitude = info ? readNumber(info, 'Location_X') : undefined;
      const longitude = info ? readNumber(info, 'Location_Y') : undefined;
      if (!info || latitude === undefined || longitude === undefined) return undefined;
      return {
        ...common,
        kind: 'event.menu_location',
        eventKey: eventKey ?? '',
        latitude,
        longitude,
        scale: readNumber(info, 'Scale') ?? 0,
        label: readText(info, 'Label') ?? '',
        poiname: readText(info, 'Poiname') ?? '',
      };
    }
    case 'view_miniprogram': {
      const menuId = readNonEmpty(fields, 'MenuId');
      return {
        ...common,
        kind: 'event.view_miniprogram',
        eventKey: readText(fields, 'EventKey') ?? '',
        ...(menuId === undefined ? {} : { menuId }),
      };
    }
    case 'templatesendjobfinish': {
      // This event spells the id `MsgID`, unlike `MsgId` on user messages.
      const msgId = readMsgId(fields);
      if (msgId === undefined) return undefined;
      return { ...common, kind: 'event.template_send_job_finish', msgId, status: readText(fields, 'Status') ?? '' };
    }
    case 'masssendjobfinish': {
      const msgId = readMsgId(fields);
      if (msgId === undefined) return undefined;
      return { ...common, ...readMassSendJobFinish(fields, msgId) };
    }
    case 'subscribe_msg_popup_event':
    case 'subscribe_msg_change_event':
    case 'subscribe_msg_sent_event': {
      const { kind, container } = SUBSCRIBE_MESSAGE_EVENTS[name];
      return { ...common, kind, items: readSubscribeItems(fields, container) };
    }
    default:
      return undefined;
  }
}

function readMassSendJobFinish(fields: XmlFields, msgId: string): MassSendJobFinish {
  const counts: Partial<Record<'totalCount' | 'filterCount' | 'sentCount' | 'errorCount', number>> = {};
  for (const [key, field] of [
    ['totalCount', 'TotalCount'],
    ['filterCount', 'FilterCount'],
    ['sentCount', 'SentCount'],
    ['errorCount', 'ErrorCount'],
  ] as const) {
    const value = readNumber(fields, field);
    if (value !== undefined) counts[key] = value;
  }
  // An empty <ResultList></ResultList> (or a result block with only whitespace) has no items.
  const copyright = readElements(fields, 'CopyrightCheckResult')[0];
  const copyrightCount = copyright === undefined ? undefined : readNumber(copyright, 'Count');
  const checkState = copyright === undefined ? undefined : readNonEmpty(copyright, 'CheckState');
  const articleUrls = readElements(fields, 'ArticleUrlResult')[0];
  const articleUrlCount = articleUrls === undefined ? undefined : readNumber(articleUrls, 'Count');
  const text = (item: XmlFields, name: string): string => readText(item, name) ?? '';
  return {
    kind: 'event.mass_send_job_finish',
    msgId,
    status: readText(fields, 'Status') ?? '',
    ...counts,
    copyrightCheck: {
      ...(copyrightCount === undefined ? {} : { count: copyrightCount }),
      ...(checkState === undefined ? {} : { checkState }),
      items: readResultItems(copyright).map((item) => ({
        articleIdx: text(item, 'ArticleIdx'),
        userDeclareState: text(item, 'UserDeclareState'),
        auditState: text(item, 'AuditState'),
        originalArticleUrl: text(item, 'OriginalArticleUrl'),
        originalArticleType: text(item, 'OriginalArticleType'),
        canReprint: text(item, 'CanReprint'),
        needReplaceContent: text(item, 'NeedReplaceContent'),
        needShowReprintSource: text(item, 'NeedShowReprintSource'),
      })),
    },
    articleUrls: {
      ...(articleUrlCount === undefined ? {} : { count: articleUrlCount }),
      items: readResultItems(articleUrls).map((item) => ({ articleIdx: text(item, 'ArticleIdx'), articleUrl: text(item, 'ArticleUrl') })),
    },
  };
}

/** `<ResultList><item>...</item><item>...</item></ResultList>` inside a result block. */
function readResultItems(block: XmlFields | undefined): XmlFields[] {
  if (block === undefined) return [];
  return readElements(block, 'ResultList').flatMap((list) => readElements(list, 'item'));
}

/** `<Container><List>...</List><List>...</List></Container>`: one List per template in the popup. */
function readSubscribeItems(fields: XmlFields, container: string): SubscribeMessageItem[] {
  const lists = readElements(fields, container).flatMap((element) => readElements(element, 'List'));
  return lists.flatMap((list) => {
    const templateId = readNonEmpty(list, 'TemplateId');
    if (templateId === undefined) return [];
    const item: SubscribeMessageItem = { templateId };
    const optional: [keyof Omit<SubscribeMessageItem, 'templateId'>, string][] = [
      ['status', 'SubscribeStatusString'],
      ['popupScene', 'PopupScene'],
      ['msgId', 'MsgID'],
      ['errorCode', 'ErrorCode'],
      ['errorStatus', 'ErrorStatus'],
    ];
    for (const [key, field] of optional) {
      const value = readText(list, field);
      if (value !== undefined) item[key] = value;
    }
    return [item];
  });
}

/**
 * The natural key of an inbound push, for insert-or-ignore against WeChat's retries.
 * Messages carry a MsgId, but WeChat does not promise it is unique across users: the same MsgId
 * from two followers must make two rows, so the key is `oa:<appid>:msg:<openid>:<msgid>`.
 * Keys stored before the openid was added (`oa:<appid>:msg:<msgid>`) keep that form: keys are
 * only compared with a new push's key, never derived again from a stored row, so the old rows
 * need no rewrite; the one cost is that a retry straddling the upgrade (seconds) is stored twice.
 * Events have no id, and FromUserName + CreateTime alone merges distinct events fired in the
 * same second (a subscribe and a SCAN, two menu clicks), so events are keyed on the event name
 * and its key as well (WxJava #333).
 * @link https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Passive_user_reply_message.html
 *   "关于重试的消息排重，推荐使用msgid排重。事件类型消息推荐使用FromUserName + CreateTime 排重。"
 */
export function officialAccountDedupeKey(appId: string, msg: OfficialAccountMessage): string {
  if (msg.msgType.toLowerCase() !== 'event' && 'msgId' in msg && msg.msgId !== undefined) {
    return compactKey(`oa:${appId}:msg:${msg.fromUserName}:${msg.msgId}`);
  }
  const event = readText(msg.raw, 'Event') ?? msg.msgType;
  const eventKey = readText(msg.raw, 'EventKey') ?? '';
  let key = `oa:${appId}:evt:${msg.fromUserName}:${msg.createTime}:${event}:${eventKey}`;
  if (msg.kind === 'event.template_send_job_finish' || msg.kind === 'event.mass_send_job_finish') key += `:${msg.msgId}`;
  if (msg.kind === 'event.subscribe_msg_popup' || msg.kind === 'event.subscribe_msg_change' || msg.kind === 'event.subscribe_msg_sent') {
    key += `:${msg.items.map((item) => (item.msgId === undefined ? item.templateId : `${item.templateId}/${item.msgId}`)).join(',')}`;
  }
  // An event this parser does not know may identify its subject in other fields, as the menu
  // tools' events do; a retry repeats the same body, so its digest keeps distinct events apart
  // without letting retries through.
  if (DIGEST_KEYED_KINDS.has(msg.kind)) key += `:${digestFields(msg.raw)}`;
  return compactKey(key);
}
