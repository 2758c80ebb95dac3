import { mapOfficialAccountMessage, mapWecomEvent } from '../../../server/modules/interactions/interaction-mapping';
import { parseOfficialAccountMessage } from '../../../server/wechat/official-account-message';
import { parseWecomEvent } from '../../../server/wechat/wecom-event';
import { parseXmlMessage } from '../../../server/wechat/xml';
import { COLLECTED_FIELD_LIMITS } from '../../../server/wechat/xml-read';
import {
  COMMUNITY_MASS_SEND_JOB_FINISH_SUCCESS,
  DOCS_TEXT_FROM_ARTICLE,
  DOCS_VOICE_WITH_16K,
  PAY_TO_FOLLOW_SUBSCRIBE,
  WXJAVA_MASS_SEND_JOB_FINISH,
  WXJAVA_SCANCODE_WAITMSG,
  DOC_MENU_LOCATION_SELECT,
  DOC_MENU_PIC_SYSPHOTO,
  DOC_MENU_VIEW_MINIPROGRAM,
  WXJAVA_TEXT_WITH_MSGID_CAPITAL,
} from '../wechat/callback-fixtures';

const APP_ID = 'wxb11529c136998cb6';
const CORP_ID = 'wx5823bf96d3bd56c7';

const oa = (xml: string, invalidUtf8?: boolean) =>
  mapOfficialAccountMessage(APP_ID, parseOfficialAccountMessage(parseXmlMessage(xml)), { invalidUtf8 });
const wecom = (xml: string) => mapWecomEvent(CORP_ID, parseWecomEvent(parseXmlMessage(xml)));

function message(type: string, body: string): string {
  return `<xml><ToUserName><![CDATA[toUser]]></ToUserName><FromUserName><![CDATA[fromUser]]></FromUserName><CreateTime>1357290913</CreateTime><MsgType><![CDATA[${type}]]></MsgType>${body}<MsgId>1234567890123456</MsgId></xml>`;
}
function event(name: string, body: string): string {
  return `<xml><ToUserName><![CDATA[toUser]]></ToUserName><FromUserName><![CDATA[fromUser]]></FromUserName><CreateTime>123456789</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[${name}]]></Event>${body}</xml>`;
}

describe('mapOfficialAccountMessage: every documented field reaches the detail', () => {
  it('messages (docs samples)', () => {
    expect(oa(DOCS_VOICE_WITH_16K)).toMatchObject({
      type: 'voice',
      detail: {
        openid: 'fromUser',
        msgId: '1234567890123456',
        mediaId: 'media_id',
        format: 'Format',
        recognition: '腾讯微信团队',
        mediaId16K: 'media_id_16k',
      },
    });
    for (const type of ['video', 'shortvideo']) {
      expect(
        oa(message(type, '<MediaId><![CDATA[media_id]]></MediaId><ThumbMediaId><![CDATA[thumb_media_id]]></ThumbMediaId>')).detail,
      ).toMatchObject({
        mediaId: 'media_id',
        thumbMediaId: 'thumb_media_id',
      });
    }
    expect(
      oa(
        message(
          'location',
          '<Location_X>23.134521</Location_X><Location_Y>113.358803</Location_Y><Scale>20</Scale><Label><![CDATA[位置信息]]></Label>',
        ),
      ).detail,
    ).toMatchObject({
      latitude: 23.134521,
      longitude: 113.358803,
      scale: 20,
      label: '位置信息',
    });
    expect(
      oa(
        message(
          'link',
          '<Title><![CDATA[公众平台官网链接]]></Title><Description><![CDATA[公众平台官网链接]]></Description><Url><![CDATA[url]]></Url>',
        ),
      ).detail,
    ).toMatchObject({
      title: '公众平台官网链接',
      description: '公众平台官网链接',
      url: 'url',
    });
    expect(oa(DOCS_TEXT_FROM_ARTICLE).detail).toMatchObject({ content: 'this is a test', msgDataId: 'xxxx', idx: 'xxxx' });
    expect(oa(message('image', '<PicUrl><![CDATA[u]]></PicUrl><MediaId><![CDATA[m]]></MediaId>')).detail).toEqual({
      openid: 'fromUser',
      msgId: '1234567890123456',
      msgDataId: null,
      idx: null,
      picUrl: 'u',
      mediaId: 'm',
    });
  });

  it('a text message with <MsgID> is a text, not unknown (WxJava fixture)', () => {
    expect(oa(WXJAVA_TEXT_WITH_MSGID_CAPITAL)).toMatchObject({
      type: 'text',
      detail: { content: 'this is a test', msgId: '1234567890123456' },
    });
  });

  it('events: subscribe EventKey, LOCATION Precision, VIEW MenuId', () => {
    expect(oa(PAY_TO_FOLLOW_SUBSCRIBE).detail).toEqual({
      openid: 'FromUser',
      scene: null,
      ticket: null,
      eventKey: 'last_trade_no_4200001234202601011234567890',
    });
    expect(
      oa(event('subscribe', '<EventKey><![CDATA[qrscene_123123]]></EventKey><Ticket><![CDATA[TICKET]]></Ticket>')).detail,
    ).toMatchObject({
      scene: '123123',
      ticket: 'TICKET',
      eventKey: 'qrscene_123123',
    });
    expect(
      oa(event('LOCATION', '<Latitude>23.137466</Latitude><Longitude>113.352425</Longitude><Precision>119.385040</Precision>')).detail,
    ).toMatchObject({
      latitude: 23.137466,
      longitude: 113.352425,
      precision: 119.38504,
    });
    expect(oa(event('VIEW', '<EventKey><![CDATA[www.qq.com]]></EventKey><MenuId>MENUID</MenuId>')).detail).toMatchObject({
      menuKey: 'www.qq.com',
      menuId: 'MENUID',
    });
  });

  it('subscribe-message events: PopupScene; MsgID, ErrorCode and ErrorStatus of a sent one (WxJava fixtures)', () => {
    const popup = event(
      'subscribe_msg_popup_event',
      '<SubscribeMsgPopupEvent><List><TemplateId><![CDATA[VRR0UEO9VJOLs0MHlU0OilqX6MVFDwH3_3gz3Oc0NIc]]></TemplateId><SubscribeStatusString><![CDATA[accept]]></SubscribeStatusString><PopupScene>2</PopupScene></List><List><TemplateId><![CDATA[9nLIlbOQZC5Y89AZteFEux3WCXRRRG5Wfzkpssu4bLI]]></TemplateId><SubscribeStatusString><![CDATA[reject]]></SubscribeStatusString><PopupScene>2</PopupScene></List></SubscribeMsgPopupEvent>',
    );
    expect(oa(popup)).toMatchObject({ type: 'subscribe_msg_popup', detail: { statuses: ['accept', 'reject'], popupScenes: ['2', '2'] } });
    const sent = event(
      'subscribe_msg_sent_event',
      '<SubscribeMsgSentEvent><List><TemplateId><![CDATA[VRR0UEO9VJOLs0MHlU0OilqX6MVFDwH3_3gz3Oc0NIc]]></TemplateId><MsgID>1700827132819554304</MsgID><ErrorCode>0</ErrorCode><ErrorStatus><![CDATA[success]]></ErrorStatus></List></SubscribeMsgSentEvent>',
    );
    expect(oa(sent).detail).toMatchObject({
      templateIds: ['VRR0UEO9VJOLs0MHlU0OilqX6MVFDwH3_3gz3Oc0NIc'],
      msgIds: ['1700827132819554304'],
      errorCodes: ['0'],
      errorStatuses: ['success'],
    });
  });

  it('MASSSENDJOBFINISH: counts, and the copyright check as parallel arrays (WxJava fixture)', () => {
    // The account's own report: no person sent it, so no identity (no contact is made for its sender).
    expect(oa(WXJAVA_MASS_SEND_JOB_FINISH).identity).toBeNull();
    expect(oa(WXJAVA_MASS_SEND_JOB_FINISH)).toMatchObject({
      type: 'mass_send_finished',
      detail: {
        msgId: '1000001625',
        status: 'err(30003)',
        totalCount: 0,
        filterCount: 0,
        sentCount: 0,
        errorCount: 0,
        copyrightCount: 2,
        copyrightCheckState: '2',
        copyrightArticleIdx: ['1', '2'],
        copyrightUserDeclareState: ['0', '0'],
        copyrightAuditState: ['2', '2'],
        copyrightOriginalArticleUrl: ['Url_1', 'Url_2'],
        copyrightOriginalArticleType: ['1', '1'],
        copyrightCanReprint: ['1', '1'],
        copyrightNeedReplaceContent: ['1', '1'],
        copyrightNeedShowReprintSource: ['1', '1'],
        articleUrlCount: null,
        articleIdx: [],
        articleUrls: [],
      },
    });
    expect(oa(COMMUNITY_MASS_SEND_JOB_FINISH_SUCCESS).detail).toMatchObject({
      status: 'send success',
      totalCount: 4,
      sentCount: 4,
      copyrightCount: 0,
      copyrightArticleIdx: [],
      articleUrlCount: 1,
      articleIdx: ['1'],
      articleUrls: ['http://mp.weixin.qq.com/s/8yzT20EvmDg37Jso9nsIIw'],
    });
  });

  it('the menu tools: a scan, pictures, a location and a mini-program opened, each with the menu key rules match on', () => {
    expect(oa(WXJAVA_SCANCODE_WAITMSG)).toMatchObject({
      type: 'menu_scan',
      channel: 'oa',
      detail: { openid: 'fromUser', menuKey: '6', scanType: 'qrcode', scanResult: '1', waitMsg: true },
    });
    expect(oa(DOC_MENU_PIC_SYSPHOTO)).toMatchObject({
      type: 'menu_pics',
      detail: {
        openid: 'oMgHVjngRipVsoxg6TuX3vz6glDg',
        menuKey: '6',
        source: 'sysphoto',
        count: 1,
        picMd5Sums: ['1b5f7c23b5bf75682a53e7b6d163e185'],
      },
    });
    expect(oa(DOC_MENU_LOCATION_SELECT)).toMatchObject({
      type: 'menu_location',
      detail: { menuKey: '6', latitude: 23, longitude: 113, scale: 15, label: ' 广州市海珠区客村艺苑路 106号', poiname: '' },
    });
    expect(oa(DOC_MENU_VIEW_MINIPROGRAM)).toMatchObject({
      type: 'view_miniprogram',
      detail: { openid: 'FromUser', menuKey: 'pages/index/index', pagePath: 'pages/index/index', menuId: 'MENUID' },
    });
  });

  it('an unknown event keeps its top-level fields under their XML names; nested ones as JSON text', () => {
    const future = WXJAVA_SCANCODE_WAITMSG.replace('scancode_waitmsg', 'some_future_event');
    expect(oa(future)).toMatchObject({
      type: 'unknown',
      detail: {
        openid: 'fromUser',
        msgType: 'event',
        event: 'some_future_event',
        EventKey: '6',
        ScanCodeInfo: JSON.stringify({ ScanType: 'qrcode', ScanResult: '1' }),
      },
    });
    expect(oa(future).detail).not.toHaveProperty('ToUserName');
    expect(oa(message('miniprogrampage', '<Title><![CDATA[t]]></Title><AppId><![CDATA[wxapp]]></AppId>')).detail).toMatchObject({
      msgType: 'miniprogrampage',
      msgId: '1234567890123456',
      Title: 't',
      AppId: 'wxapp',
    });
  });

  it('an unknown event is bounded: field count, value length and total, with truncated: true', () => {
    const many = Array.from({ length: 50 }, (_, i) => `<F${i}>v</F${i}>`).join('');
    const wide = oa(event('brand_new', many)).detail;
    expect(Object.keys(wide).filter((k) => /^F\d+$/.test(k))).toHaveLength(COLLECTED_FIELD_LIMITS.maxFields);
    expect(wide.truncated).toBe(true);
    const long = oa(event('brand_new', `<A>${'x'.repeat(5_000)}</A>`)).detail;
    expect(long.A).toHaveLength(COLLECTED_FIELD_LIMITS.maxValueChars);
    expect(long.truncated).toBe(true);
    const big = oa(event('brand_new', Array.from({ length: 20 }, (_, i) => `<B${i}>${'y'.repeat(900)}</B${i}>`).join(''))).detail;
    const total = Object.entries(big)
      .filter(([k]) => /^B\d+$/.test(k))
      .reduce((sum, [, v]) => sum + (v as string).length, 0);
    expect(total).toBe(COLLECTED_FIELD_LIMITS.maxTotalChars);
    expect(oa(event('brand_new', '<A>1</A>')).detail).not.toHaveProperty('truncated');
  });

  it('flags invalidUtf8 only when asked', () => {
    expect(oa(DOCS_TEXT_FROM_ARTICLE, true).detail.invalidUtf8).toBe(true);
    expect(oa(DOCS_TEXT_FROM_ARTICLE).detail).not.toHaveProperty('invalidUtf8');
  });
});

describe('mapWecomEvent: every documented field reaches the detail', () => {
  const contact = (changeType: string, extra: string) =>
    `<xml><ToUserName><![CDATA[toUser]]></ToUserName><FromUserName><![CDATA[sys]]></FromUserName><CreateTime>1403610513</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[change_external_contact]]></Event><ChangeType><![CDATA[${changeType}]]></ChangeType><UserID><![CDATA[zhangsan]]></UserID><ExternalUserID><![CDATA[woAJ2GCAAAXtWyujaWJHDDGi0mACAAAA]]></ExternalUserID>${extra}</xml>`;

  it('change_external_contact keeps State, WelcomeCode, Source and FailReason (docs samples)', () => {
    expect(
      wecom(contact('add_external_contact', '<State><![CDATA[teststate]]></State><WelcomeCode><![CDATA[WELCOMECODE]]></WelcomeCode>'))
        .detail,
    ).toEqual({
      userId: 'zhangsan',
      externalUserId: 'woAJ2GCAAAXtWyujaWJHDDGi0mACAAAA',
      scene: 'teststate',
      welcomeCode: 'WELCOMECODE',
      source: null,
      failReason: null,
    });
    expect(wecom(contact('add_half_external_contact', '<WelcomeCode><![CDATA[WELCOMECODE]]></WelcomeCode>')).detail.welcomeCode).toBe(
      'WELCOMECODE',
    );
    expect(wecom(contact('del_external_contact', '<Source><![CDATA[DELETE_BY_TRANSFER]]></Source>')).detail.source).toBe(
      'DELETE_BY_TRANSFER',
    );
    expect(wecom(contact('transfer_fail', '<FailReason><![CDATA[customer_refused]]></FailReason>')).detail.failReason).toBe(
      'customer_refused',
    );
  });

  it('change_external_tag keeps Id, TagType and StrategyId', () => {
    const xml = `<xml><ToUserName><![CDATA[toUser]]></ToUserName><FromUserName><![CDATA[sys]]></FromUserName><CreateTime>1403610513</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[change_external_tag]]></Event><Id><![CDATA[TAG_ID_1]]></Id><Id><![CDATA[TAG_ID_2]]></Id><TagType><![CDATA[tag]]></TagType><StrategyId>1</StrategyId><ChangeType><![CDATA[delete]]></ChangeType></xml>`;
    expect(wecom(xml)).toMatchObject({
      type: 'external_tag_delete',
      detail: { tagIds: ['TAG_ID_1', 'TAG_ID_2'], tagType: 'tag', strategyId: '1' },
    });
  });

  it('an unknown WeCom event keeps its fields (change_external_chat, docs sample)', () => {
    const xml = `<xml><ToUserName><![CDATA[toUser]]></ToUserName><FromUserName><![CDATA[sys]]></FromUserName><CreateTime>1403610513</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[change_external_chat]]></Event><ChatId><![CDATA[CHAT_ID]]></ChatId><ChangeType><![CDATA[update]]></ChangeType><UpdateDetail><![CDATA[add_member]]></UpdateDetail><JoinScene>1</JoinScene><QuitScene>0</QuitScene><MemChangeCnt>10</MemChangeCnt><MemChangeList><Item>Jack</Item><Item>Rose</Item></MemChangeList><LastMemVer>9c3f0</LastMemVer><CurMemVer>71217</CurMemVer></xml>`;
    expect(wecom(xml)).toMatchObject({
      type: 'wecom_unknown',
      detail: {
        event: 'change_external_chat',
        FromUserName: 'sys',
        ChatId: 'CHAT_ID',
        ChangeType: 'update',
        UpdateDetail: 'add_member',
        JoinScene: '1',
        MemChangeCnt: '10',
        MemChangeList: JSON.stringify({ Item: ['Jack', 'Rose'] }),
        CurMemVer: '71217',
      },
    });
  });
});
