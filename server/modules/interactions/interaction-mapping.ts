import type { OfficialAccountMessage } from '../../wechat/official-account-message';
import { officialAccountDedupeKey } from '../../wechat/official-account-message';
import type { WecomEvent } from '../../wechat/wecom-event';
import { wecomDedupeKey } from '../../wechat/wecom-event';
import type { InteractionDraft } from './interactions.service';

export type { InteractionDraft };

/**
 * What an inbound callback becomes on the timeline. Rule matching reads the same detail keys:
 * `content` (keywords), `scene` (QR scene or contact-way state), `menuKey`, `eventId`.
 */
export function mapOfficialAccountMessage(appId: string, msg: OfficialAccountMessage): InteractionDraft {
  const base = {
    channel: 'oa' as const,
    occurredAt: new Date(msg.createTime * 1000),
    identity: { kind: 'oa_openid' as const, appId, value: msg.fromUserName },
    dedupeKey: officialAccountDedupeKey(appId, msg),
  };
  const openid = msg.fromUserName;
  switch (msg.kind) {
    case 'text':
      return { ...base, type: 'text', detail: { openid, msgId: msg.msgId, content: msg.content } };
    case 'image':
      return { ...base, type: 'image', detail: { openid, msgId: msg.msgId, picUrl: msg.picUrl, mediaId: msg.mediaId } };
    case 'voice':
      return { ...base, type: 'voice', detail: { openid, msgId: msg.msgId, mediaId: msg.mediaId, recognition: msg.recognition ?? null } };
    case 'video':
    case 'shortvideo':
      return { ...base, type: msg.kind, detail: { openid, msgId: msg.msgId, mediaId: msg.mediaId } };
    case 'location':
      return { ...base, type: 'location', detail: { openid, msgId: msg.msgId, latitude: msg.latitude, longitude: msg.longitude, label: msg.label } };
    case 'link':
      return { ...base, type: 'link', detail: { openid, msgId: msg.msgId, title: msg.title, url: msg.url } };
    case 'event.subscribe':
      return { ...base, type: 'subscribe', detail: { openid, scene: msg.scene ?? null, ticket: msg.ticket ?? null } };
    case 'event.unsubscribe':
      return { ...base, type: 'unsubscribe', detail: { openid } };
    case 'event.scan':
      return { ...base, type: 'scan', detail: { openid, scene: msg.scene, ticket: msg.ticket } };
    case 'event.location':
      return { ...base, type: 'location_report', detail: { openid, latitude: msg.latitude, longitude: msg.longitude } };
    case 'event.click':
      return { ...base, type: 'click', detail: { openid, menuKey: msg.eventKey } };
    case 'event.view':
      return { ...base, type: 'view', detail: { openid, menuKey: msg.eventKey, url: msg.eventKey } };
    case 'event.template_send_job_finish':
      return { ...base, type: 'template_delivered', detail: { openid, msgId: msg.msgId, status: msg.status } };
    case 'event.subscribe_msg_popup':
    case 'event.subscribe_msg_change':
    case 'event.subscribe_msg_sent':
      return {
        ...base,
        type: msg.kind.slice('event.'.length),
        detail: { openid, templateIds: msg.items.map((i) => i.templateId), statuses: msg.items.map((i) => i.status ?? i.errorStatus ?? '') },
      };
    case 'unknown':
      // Stored as a generic interaction: a new WeChat event is recorded, never lost or refused.
      return { ...base, type: 'unknown', detail: { openid, msgType: msg.msgType, event: msg.event ?? null } };
  }
}

export function mapWecomEvent(corpId: string, ev: WecomEvent): InteractionDraft {
  const base = { channel: 'wecom' as const, occurredAt: new Date(ev.createTime * 1000), dedupeKey: wecomDedupeKey(corpId, ev) };
  switch (ev.kind) {
    case 'change_external_contact':
      return {
        ...base,
        type: ev.changeType,
        identity: { kind: 'external_userid', appId: corpId, value: ev.externalUserId },
        detail: {
          userId: ev.userId,
          externalUserId: ev.externalUserId,
          scene: ev.state ?? null,
          source: ev.source ?? null,
          failReason: ev.failReason ?? null,
        },
      };
    case 'change_external_tag':
      return { ...base, type: `external_tag_${ev.changeType}`, identity: null, detail: { tagIds: ev.tagId, tagType: ev.tagType } };
    case 'unknown':
      return { ...base, type: 'wecom_unknown', identity: null, detail: { event: ev.event, msgType: ev.msgType } };
  }
}
