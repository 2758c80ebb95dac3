import type { InteractionDetail } from '../../../entities/interaction.entity';
import type { OfficialAccountMessage } from '../../wechat/official-account-message';
import { officialAccountDedupeKey } from '../../wechat/official-account-message';
import type { WecomEvent } from '../../wechat/wecom-event';
import { wecomDedupeKey } from '../../wechat/wecom-event';
import { collectFields } from '../../wechat/xml-read';
import type { InteractionDraft } from './interactions.service';
import { parseChannelScene } from '../channels/channel-scene';

export type { InteractionDraft };

/**
 * What an inbound callback becomes on the timeline. Rule matching reads the same detail keys:
 * `content` (keywords), `scene` (QR scene or contact-way state), `menuKey`, `eventId`.
 *
 * Every field the platform documents for a type is kept, under a camelCase key; a documented
 * field the push left out is `null` (so the timeline shows it was absent, not forgotten).
 * Nested lists become parallel arrays of strings, one array per item field, index-aligned, with
 * `''` for an item that lacks the field (the shape `templateIds`/`statuses` already had):
 * `string[]` is what InteractionDetail holds and what a filter can search without parsing JSON.
 * A push no parser knows keeps its top-level fields under their XML names (collectFields).
 * `invalidUtf8: true` marks a body that was not valid UTF-8 and was stored with U+FFFD.
 */
export interface MapOptions {
  /** The stored body had invalid UTF-8, replaced with U+FFFD (decodeUtf8Replacing). */
  invalidUtf8?: boolean;
}

const OA_BASE_FIELDS: ReadonlySet<string> = new Set(['ToUserName', 'FromUserName', 'CreateTime', 'MsgType', 'Event']);
/** WeCom's FromUserName is kept: it is `sys` for customer contact, but a member's userid on app events. */
const WECOM_BASE_FIELDS: ReadonlySet<string> = new Set(['ToUserName', 'CreateTime', 'MsgType', 'Event']);

export function mapOfficialAccountMessage(appId: string, msg: OfficialAccountMessage, options: MapOptions = {}): InteractionDraft {
  const { type, detail } = describeOfficialAccountMessage(msg);
  return {
    channel: 'oa',
    occurredAt: new Date(msg.createTime * 1000),
    // MASSSENDJOBFINISH ("事件推送群发结果") is the account's report on its own mass send: its
    // FromUserName is the account's sender, not a person the send reached. An account-level row
    // with no contact; resolving the openid would make a phantom follower.
    identity: msg.kind === 'event.mass_send_job_finish' ? null : { kind: 'oa_openid', appId, value: msg.fromUserName },
    dedupeKey: officialAccountDedupeKey(appId, msg),
    type,
    detail: withFlags(detail, options),
  };
}

function describeOfficialAccountMessage(msg: OfficialAccountMessage): { type: string; detail: InteractionDetail } {
  const openid = msg.fromUserName;
  switch (msg.kind) {
    case 'text':
      return { type: 'text', detail: { ...messageDetail(msg), content: msg.content } };
    case 'image':
      return { type: 'image', detail: { ...messageDetail(msg), picUrl: msg.picUrl, mediaId: msg.mediaId } };
    case 'voice':
      return {
        type: 'voice',
        detail: {
          ...messageDetail(msg),
          mediaId: msg.mediaId,
          format: msg.format,
          recognition: msg.recognition ?? null,
          mediaId16K: msg.mediaId16K ?? null,
        },
      };
    case 'video':
    case 'shortvideo':
      return { type: msg.kind, detail: { ...messageDetail(msg), mediaId: msg.mediaId, thumbMediaId: msg.thumbMediaId } };
    case 'location':
      return {
        type: 'location',
        detail: { ...messageDetail(msg), latitude: msg.latitude, longitude: msg.longitude, scale: msg.scale, label: msg.label },
      };
    case 'link':
      return { type: 'link', detail: { ...messageDetail(msg), title: msg.title, description: msg.description, url: msg.url } };
    case 'event.subscribe':
      // EventKey is kept as sent: `qrscene_<scene>` through a QR code, or something else, such as
      // the `last_trade_no_<id>` of a pay-to-follow subscribe.
      return {
        type: 'subscribe',
        detail: withChannel({ openid, scene: msg.scene ?? null, ticket: msg.ticket ?? null, eventKey: msg.eventKey ?? null }),
      };
    case 'event.unsubscribe':
      return { type: 'unsubscribe', detail: { openid } };
    case 'event.scan':
      return { type: 'scan', detail: withChannel({ openid, scene: msg.scene, ticket: msg.ticket }) };
    case 'event.location':
      return { type: 'location_report', detail: { openid, latitude: msg.latitude, longitude: msg.longitude, precision: msg.precision } };
    case 'event.click':
      return { type: 'click', detail: { openid, menuKey: msg.eventKey } };
    case 'event.view':
      return { type: 'view', detail: { openid, menuKey: msg.eventKey, url: msg.eventKey, menuId: msg.menuId ?? null } };
    case 'event.menu_scan':
      return {
        type: 'menu_scan',
        detail: { openid, menuKey: msg.eventKey, scanType: msg.scanType, scanResult: msg.scanResult, waitMsg: msg.waitMsg },
      };
    case 'event.menu_pics':
      return {
        type: 'menu_pics',
        detail: { openid, menuKey: msg.eventKey, source: msg.source, count: msg.count, picMd5Sums: msg.picMd5Sums },
      };
    case 'event.menu_location':
      return {
        type: 'menu_location',
        detail: {
          openid,
          menuKey: msg.eventKey,
          latitude: msg.latitude,
          longitude: msg.longitude,
          scale: msg.scale,
          label: msg.label,
          poiname: msg.poiname,
        },
      };
    case 'event.view_miniprogram':
      return { type: 'view_miniprogram', detail: { openid, menuKey: msg.eventKey, pagePath: msg.eventKey, menuId: msg.menuId ?? null } };
    case 'event.template_send_job_finish':
      return { type: 'template_delivered', detail: { openid, msgId: msg.msgId, status: msg.status } };
    case 'event.mass_send_job_finish': {
      const copyright = msg.copyrightCheck.items;
      const urls = msg.articleUrls.items;
      return {
        type: 'mass_send_finished',
        detail: {
          openid,
          msgId: msg.msgId,
          status: msg.status,
          totalCount: msg.totalCount ?? null,
          filterCount: msg.filterCount ?? null,
          sentCount: msg.sentCount ?? null,
          errorCount: msg.errorCount ?? null,
          copyrightCount: msg.copyrightCheck.count ?? null,
          copyrightCheckState: msg.copyrightCheck.checkState ?? null,
          copyrightArticleIdx: copyright.map((i) => i.articleIdx),
          copyrightUserDeclareState: copyright.map((i) => i.userDeclareState),
          copyrightAuditState: copyright.map((i) => i.auditState),
          copyrightOriginalArticleUrl: copyright.map((i) => i.originalArticleUrl),
          copyrightOriginalArticleType: copyright.map((i) => i.originalArticleType),
          copyrightCanReprint: copyright.map((i) => i.canReprint),
          copyrightNeedReplaceContent: copyright.map((i) => i.needReplaceContent),
          copyrightNeedShowReprintSource: copyright.map((i) => i.needShowReprintSource),
          articleUrlCount: msg.articleUrls.count ?? null,
          articleIdx: urls.map((i) => i.articleIdx),
          articleUrls: urls.map((i) => i.articleUrl),
        },
      };
    }
    case 'event.subscribe_msg_popup':
    case 'event.subscribe_msg_change':
    case 'event.subscribe_msg_sent': {
      const items = msg.items;
      const detail: InteractionDetail = {
        openid,
        templateIds: items.map((i) => i.templateId),
        // One status per template: SubscribeStatusString (popup, change) or ErrorStatus (sent).
        statuses: items.map((i) => i.status ?? i.errorStatus ?? ''),
      };
      if (msg.kind === 'event.subscribe_msg_popup') detail.popupScenes = items.map((i) => i.popupScene ?? '');
      if (msg.kind === 'event.subscribe_msg_sent') {
        detail.msgIds = items.map((i) => i.msgId ?? '');
        detail.errorCodes = items.map((i) => i.errorCode ?? '');
        detail.errorStatuses = items.map((i) => i.errorStatus ?? '');
      }
      return { type: msg.kind.slice('event.'.length), detail };
    }
    case 'unknown': {
      // Stored as a generic interaction: a new WeChat event is recorded with what it said, never
      // lost or refused.
      const collected = collectFields(msg.raw, OA_BASE_FIELDS);
      return {
        type: 'unknown',
        detail: {
          ...collected.fields,
          openid,
          msgType: msg.msgType,
          event: msg.event ?? null,
          ...(msg.msgId === undefined ? {} : { msgId: msg.msgId }),
          ...(collected.truncated ? { truncated: true } : {}),
        },
      };
    }
  }
}

export function mapWecomEvent(corpId: string, ev: WecomEvent, options: MapOptions = {}): InteractionDraft {
  const base = { channel: 'wecom' as const, occurredAt: new Date(ev.createTime * 1000), dedupeKey: wecomDedupeKey(corpId, ev) };
  switch (ev.kind) {
    case 'change_external_contact':
      return {
        ...base,
        type: ev.changeType,
        identity: { kind: 'external_userid', appId: corpId, value: ev.externalUserId },
        detail: withFlags(
          withChannel({
            userId: ev.userId,
            externalUserId: ev.externalUserId,
            scene: ev.state ?? null,
            welcomeCode: ev.welcomeCode ?? null,
            source: ev.source ?? null,
            failReason: ev.failReason ?? null,
          }),
          options,
        ),
      };
    case 'change_external_tag':
      return {
        ...base,
        type: `external_tag_${ev.changeType}`,
        identity: null,
        detail: withFlags({ tagIds: ev.tagId, tagType: ev.tagType, strategyId: ev.strategyId ?? null }, options),
      };
    case 'unknown': {
      const collected = collectFields(ev.raw, WECOM_BASE_FIELDS);
      return {
        ...base,
        type: 'wecom_unknown',
        identity: null,
        detail: withFlags(
          { ...collected.fields, event: ev.event, msgType: ev.msgType, ...(collected.truncated ? { truncated: true } : {}) },
          options,
        ),
      };
    }
  }
}

/** What every ordinary message carries: who, its id, and the article it came from, if any. */
function messageDetail(msg: { fromUserName: string; msgId: string; msgDataId?: string; idx?: string }): InteractionDetail {
  return { openid: msg.fromUserName, msgId: msg.msgId, msgDataId: msg.msgDataId ?? null, idx: msg.idx ?? null };
}

/** A scene or state naming one of our channel codes (`ch:<id>`) puts the channel's id on the interaction. */
function withChannel(detail: InteractionDetail): InteractionDetail {
  const channelId = parseChannelScene(detail.scene);
  return channelId === null ? detail : { ...detail, channelId };
}

function withFlags(detail: InteractionDetail, options: MapOptions): InteractionDetail {
  return options.invalidUtf8 === true ? { ...detail, invalidUtf8: true } : detail;
}
