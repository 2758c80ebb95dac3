import { parseWecomEvent, wecomDedupeKey, type WecomEvent } from '../../../server/wechat/wecom-event';
import { parseXmlMessage } from '../../../server/wechat/xml';
import { catchProtocolCode } from './fixtures';

const CORP_ID = 'wx5823bf96d3bd56c7';

function parse(xml: string): WecomEvent {
  return parseWecomEvent(parseXmlMessage(xml));
}

function contactEvent(changeType: string, extra: string, userId = 'zhangsan', externalUserId = 'woAJ2GCAAAXtWyujaWJHDDGi0mACAAAA'): string {
  return `<xml>
  <ToUserName><![CDATA[toUser]]></ToUserName>
  <FromUserName><![CDATA[sys]]></FromUserName>
  <CreateTime>1403610513</CreateTime>
  <MsgType><![CDATA[event]]></MsgType>
  <Event><![CDATA[change_external_contact]]></Event>
  <ChangeType><![CDATA[${changeType}]]></ChangeType>
  <UserID><![CDATA[${userId}]]></UserID>
  <ExternalUserID><![CDATA[${externalUserId}]]></ExternalUserID>
  ${extra}
</xml>`;
}

function tagEvent(changeType: string, body: string): string {
  return `<xml>
  <ToUserName><![CDATA[toUser]]></ToUserName>
  <FromUserName><![CDATA[sys]]></FromUserName>
  <CreateTime>1403610513</CreateTime>
  <MsgType><![CDATA[event]]></MsgType>
  <Event><![CDATA[change_external_tag]]></Event>
  ${body}
  <ChangeType><![CDATA[${changeType}]]></ChangeType>
</xml>`;
}

/** Inbound XML written the way the WeCom customer-contact callback docs show each event. */
const SAMPLES = {
  add: contactEvent('add_external_contact', '<State><![CDATA[teststate]]></State><WelcomeCode><![CDATA[WELCOMECODE]]></WelcomeCode>'),
  edit: contactEvent('edit_external_contact', ''),
  addHalf: contactEvent(
    'add_half_external_contact',
    '<State><![CDATA[teststate]]></State><WelcomeCode><![CDATA[WELCOMECODE]]></WelcomeCode>',
  ),
  del: contactEvent('del_external_contact', '<Source><![CDATA[DELETE_BY_TRANSFER]]></Source>'),
  delFollowUser: contactEvent('del_follow_user', ''),
  transferFail: contactEvent('transfer_fail', '<FailReason><![CDATA[customer_refused]]></FailReason>'),
  tagCreate: tagEvent('create', '<Id><![CDATA[TAG_ID]]></Id><TagType><![CDATA[tag]]></TagType>'),
  tagUpdate: tagEvent('update', '<Id><![CDATA[TAG_ID]]></Id><TagType><![CDATA[tag_group]]></TagType>'),
  tagDelete: tagEvent(
    'delete',
    '<Id><![CDATA[TAG_ID_1]]></Id><Id><![CDATA[TAG_ID_2]]></Id><TagType><![CDATA[tag]]></TagType><StrategyId>1</StrategyId>',
  ),
  tagShuffle: tagEvent('shuffle', '<Id><![CDATA[TAG_GROUP_ID]]></Id><StrategyId>1</StrategyId>'),
} as const;

describe('parseWecomEvent: change_external_contact', () => {
  it('parses add_external_contact with state and welcome code', () => {
    expect(parse(SAMPLES.add)).toMatchObject({
      kind: 'change_external_contact',
      changeType: 'add_external_contact',
      toUserName: 'toUser',
      fromUserName: 'sys',
      createTime: 1403610513,
      msgType: 'event',
      userId: 'zhangsan',
      externalUserId: 'woAJ2GCAAAXtWyujaWJHDDGi0mACAAAA',
      state: 'teststate',
      welcomeCode: 'WELCOMECODE',
    });
  });

  it('parses edit, add_half, del, del_follow_user and transfer_fail', () => {
    const edit = parse(SAMPLES.edit);
    expect(edit).toMatchObject({ kind: 'change_external_contact', changeType: 'edit_external_contact' });
    expect(edit).not.toHaveProperty('state');
    expect(parse(SAMPLES.addHalf)).toMatchObject({ changeType: 'add_half_external_contact', welcomeCode: 'WELCOMECODE' });
    expect(parse(SAMPLES.del)).toMatchObject({ changeType: 'del_external_contact', source: 'DELETE_BY_TRANSFER' });
    expect(parse(SAMPLES.delFollowUser)).toMatchObject({ changeType: 'del_follow_user', userId: 'zhangsan' });
    expect(parse(SAMPLES.transferFail)).toMatchObject({ changeType: 'transfer_fail', failReason: 'customer_refused' });
  });

  it('keeps a ChangeType it does not know as a string', () => {
    expect(parse(contactEvent('msg_audit_approved', ''))).toMatchObject({
      kind: 'change_external_contact',
      changeType: 'msg_audit_approved',
    });
  });

  it('returns unknown when UserID or ExternalUserID is missing', () => {
    expect(parse(SAMPLES.edit.replace(/<UserID>.*<\/UserID>/, ''))).toMatchObject({
      kind: 'unknown',
      event: 'change_external_contact',
    });
  });
});

describe('parseWecomEvent: change_external_tag', () => {
  it('parses create, update and delete', () => {
    expect(parse(SAMPLES.tagCreate)).toMatchObject({
      kind: 'change_external_tag',
      changeType: 'create',
      tagId: ['TAG_ID'],
      tagType: 'tag',
    });
    expect(parse(SAMPLES.tagUpdate)).toMatchObject({ changeType: 'update', tagType: 'tag_group' });
    expect(parse(SAMPLES.tagDelete)).toMatchObject({
      changeType: 'delete',
      tagId: ['TAG_ID_1', 'TAG_ID_2'],
      tagType: 'tag',
      strategyId: '1',
    });
  });

  it('parses shuffle, whose Id is a tag group', () => {
    expect(parse(SAMPLES.tagShuffle)).toMatchObject({
      changeType: 'shuffle',
      tagId: ['TAG_GROUP_ID'],
      tagType: 'tag_group',
      strategyId: '1',
    });
  });

  it('returns unknown for a tag ChangeType it does not know', () => {
    expect(parse(tagEvent('merge', '<Id>1</Id>'))).toMatchObject({ kind: 'unknown', event: 'change_external_tag' });
  });
});

describe('parseWecomEvent: other input', () => {
  it('returns unknown with the event name for other events', () => {
    const xml = SAMPLES.edit
      .replace('change_external_contact', 'change_external_chat')
      .replace('</xml>', '<ChatId><![CDATA[CHAT_ID]]></ChatId></xml>');
    expect(parse(xml)).toMatchObject({ kind: 'unknown', event: 'change_external_chat' });
  });

  it.each(['ToUserName', 'FromUserName', 'CreateTime', 'MsgType'])('reports malformed_xml without %s', (field) => {
    const xml = SAMPLES.add.replace(new RegExp(`<${field}>.*</${field}>`), '');
    expect(catchProtocolCode(() => parse(xml))).toBe('malformed_xml');
  });
});

describe('wecomDedupeKey', () => {
  it('names event, change, time, member, customer, tags, tag type and state', () => {
    expect(wecomDedupeKey(CORP_ID, parse(SAMPLES.add))).toBe(
      `wecom:${CORP_ID}:change_external_contact:add_external_contact:1403610513:zhangsan:woAJ2GCAAAXtWyujaWJHDDGi0mACAAAA:::teststate`,
    );
    expect(wecomDedupeKey(CORP_ID, parse(SAMPLES.tagDelete))).toBe(
      `wecom:${CORP_ID}:change_external_tag:delete:1403610513:::TAG_ID_1,TAG_ID_2:tag:`,
    );
  });

  it('keeps apart pushes from sys in the same second about different people or changes', () => {
    const keys = [
      SAMPLES.add,
      contactEvent('add_external_contact', '', 'lisi'),
      contactEvent('add_external_contact', '', 'zhangsan', 'wmOTHER'),
      SAMPLES.del,
      SAMPLES.tagCreate,
      SAMPLES.tagUpdate,
      tagEvent('create', '<Id><![CDATA[TAG_ID_2]]></Id><TagType><![CDATA[tag]]></TagType>'),
    ].map((xml) => wecomDedupeKey(CORP_ID, parse(xml)));
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('gives a retry of the same push the same key', () => {
    for (const xml of Object.values(SAMPLES)) {
      expect(wecomDedupeKey(CORP_ID, parse(xml))).toBe(wecomDedupeKey(CORP_ID, parse(xml)));
    }
  });

  it('keeps unknown events about different subjects apart', () => {
    const chat = (id: string): string =>
      SAMPLES.edit.replace('change_external_contact', 'change_external_chat').replace('</xml>', `<ChatId><![CDATA[${id}]]></ChatId></xml>`);
    expect(wecomDedupeKey(CORP_ID, parse(chat('A')))).not.toBe(wecomDedupeKey(CORP_ID, parse(chat('B'))));
  });

  it('compacts keys longer than 191 characters', () => {
    const ids = Array.from({ length: 20 }, (_, i) => `<Id><![CDATA[etXXXXXXXXXXXXXXXXXXXXXXXX${i}]]></Id>`).join('');
    const key = wecomDedupeKey(CORP_ID, parse(tagEvent('delete', `${ids}<TagType><![CDATA[tag]]></TagType>`)));
    expect(key.length).toBeLessThanOrEqual(191);
    expect(key).toMatch(/#[0-9a-f]{64}$/);
  });
});
