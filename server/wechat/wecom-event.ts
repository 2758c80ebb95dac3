import { compactKey, digestFields } from './dedupe-key';
import { ProtocolError } from './protocol-error';
import type { XmlFields } from './xml';
import { readNonEmpty, readNumber, readText, readTexts } from './xml-read';

/**
 * WeCom customer-contact callbacks, after decryption.
 * @link https://developer.work.weixin.qq.com/document/path/92130 (客户联系变更回调通知)
 */
export interface WecomEventBase {
  /** The corpid. */
  toUserName: string;
  /** `sys` for customer-contact pushes. */
  fromUserName: string;
  /** Seconds since the epoch. */
  createTime: number;
  msgType: string;
  raw: XmlFields;
}

/** Known ChangeType values of change_external_contact; new ones WeCom adds still arrive as strings. */
export type ExternalContactChangeType =
  | 'add_external_contact'
  | 'edit_external_contact'
  | 'add_half_external_contact'
  | 'del_external_contact'
  | 'del_follow_user'
  | 'transfer_fail'
  | (string & {});

export type ExternalTagChangeType = 'create' | 'update' | 'delete' | 'shuffle';

export type WecomEvent =
  | (WecomEventBase & {
      kind: 'change_external_contact';
      changeType: ExternalContactChangeType;
      /** The member (sales rep) on the company side. */
      userId: string;
      externalUserId: string;
      /** The `state` set on the contact way (QR code) the customer added through. */
      state?: string;
      /** Valid 20 seconds, for send_welcome_msg. */
      welcomeCode?: string;
      /** del_external_contact: `DELETE_BY_TRANSFER` when removed by a succession transfer. */
      source?: string;
      /** transfer_fail: `customer_refused` or `customer_limit_exceed`. */
      failReason?: string;
    })
  | (WecomEventBase & {
      kind: 'change_external_tag';
      changeType: ExternalTagChangeType;
      /** Id may repeat in one push when several tags of a group change together. */
      tagId: string[];
      tagType: 'tag' | 'tag_group';
      strategyId?: string;
    })
  | (WecomEventBase & { kind: 'unknown'; event: string });

const TAG_CHANGE_TYPES: readonly ExternalTagChangeType[] = ['create', 'update', 'delete', 'shuffle'];

export function parseWecomEvent(fields: XmlFields): WecomEvent {
  const base = readBase(fields);
  const event = readText(fields, 'Event') ?? '';
  const changeType = readText(fields, 'ChangeType') ?? '';
  if (event === 'change_external_contact') {
    const userId = readText(fields, 'UserID');
    const externalUserId = readText(fields, 'ExternalUserID');
    if (userId !== undefined && externalUserId !== undefined && changeType !== '') {
      const state = readNonEmpty(fields, 'State');
      const welcomeCode = readNonEmpty(fields, 'WelcomeCode');
      const source = readNonEmpty(fields, 'Source');
      const failReason = readNonEmpty(fields, 'FailReason');
      return {
        ...base,
        kind: 'change_external_contact',
        changeType,
        userId,
        externalUserId,
        ...(state === undefined ? {} : { state }),
        ...(welcomeCode === undefined ? {} : { welcomeCode }),
        ...(source === undefined ? {} : { source }),
        ...(failReason === undefined ? {} : { failReason }),
      };
    }
  }
  if (event === 'change_external_tag') {
    const tagChange = TAG_CHANGE_TYPES.find((known) => known === changeType);
    if (tagChange !== undefined) {
      const declared = readText(fields, 'TagType');
      // shuffle carries no TagType: its Id is the tag group whose tags were reordered.
      const tagType = declared === 'tag' || declared === 'tag_group' ? declared : tagChange === 'shuffle' ? 'tag_group' : 'tag';
      const strategyId = readNonEmpty(fields, 'StrategyId');
      return {
        ...base,
        kind: 'change_external_tag',
        changeType: tagChange,
        tagId: readTexts(fields, 'Id').filter((id) => id !== ''),
        tagType,
        ...(strategyId === undefined ? {} : { strategyId }),
      };
    }
  }
  return { ...base, kind: 'unknown', event };
}

function readBase(fields: XmlFields): WecomEventBase {
  const toUserName = readText(fields, 'ToUserName');
  const fromUserName = readText(fields, 'FromUserName');
  const createTime = readNumber(fields, 'CreateTime');
  const msgType = readNonEmpty(fields, 'MsgType');
  if (toUserName === undefined || fromUserName === undefined || msgType === undefined) {
    throw new ProtocolError('malformed_xml', 'event lacks ToUserName, FromUserName or MsgType');
  }
  if (createTime === undefined || !Number.isInteger(createTime)) {
    throw new ProtocolError('malformed_xml', 'event lacks an integer CreateTime');
  }
  return { toUserName, fromUserName, createTime, msgType, raw: fields };
}

/**
 * The natural key of a WeCom push. Every customer-contact push comes from `sys`, so
 * FromUserName + CreateTime collides across members and customers changed in the same second
 * (WxJava #2314); the key names who, whom and what changed.
 * What is left out cannot tell two real pushes apart: Source, FailReason and WelcomeCode belong
 * to one change of one (member, customer) pair, and that pair cannot have the same change twice in
 * one second (two edit_external_contact pushes in a second would be merged, which loses nothing:
 * the push carries no content, and the contact is fetched again). Tag ids are unique per corp, so
 * StrategyId adds nothing. WeCom message ids are not used: these callbacks carry none.
 */
export function wecomDedupeKey(corpId: string, ev: WecomEvent): string {
  const raw = ev.raw;
  const parts = [
    readText(raw, 'Event') ?? ev.msgType,
    readText(raw, 'ChangeType') ?? '',
    String(ev.createTime),
    readText(raw, 'UserID') ?? '',
    readText(raw, 'ExternalUserID') ?? '',
    readTexts(raw, 'Id').join(','),
    readText(raw, 'TagType') ?? '',
    readText(raw, 'State') ?? '',
  ];
  // Pushes this parser does not know (e.g. change_external_chat) identify their subject in other
  // fields; a retry repeats the same body, so its digest keeps them apart without dropping retries.
  if (ev.kind === 'unknown') parts.push(digestFields(raw));
  return compactKey(`wecom:${corpId}:${parts.join(':')}`);
}
