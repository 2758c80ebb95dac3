import {
  officialAccountDedupeKey,
  parseOfficialAccountMessage,
  type OfficialAccountMessage,
} from '../../../server/wechat/official-account-message';
import { compactKey, digestFields } from '../../../server/wechat/dedupe-key';
import { parseXmlMessage } from '../../../server/wechat/xml';
import {
  COMMUNITY_MASS_SEND_JOB_FINISH_SUCCESS,
  DOC_MENU_LOCATION_SELECT,
  DOC_MENU_PIC_PHOTO_OR_ALBUM,
  DOC_MENU_PIC_SYSPHOTO,
  DOC_MENU_PIC_WEIXIN,
  DOC_MENU_SCANCODE_PUSH,
  DOC_MENU_SCANCODE_WAITMSG,
  DOC_MENU_VIEW_MINIPROGRAM,
  DOCS_TEXT_FROM_ARTICLE,
  DOCS_VOICE_WITH_16K,
  PAY_TO_FOLLOW_SUBSCRIBE,
  WXJAVA_MASS_SEND_JOB_FINISH,
  WXJAVA_TEXT_WITH_MSGID_CAPITAL,
} from './callback-fixtures';
import { catchProtocolCode } from './fixtures';

const APP_ID = 'wxb11529c136998cb6';

function parse(xml: string): OfficialAccountMessage {
  return parseOfficialAccountMessage(parseXmlMessage(xml));
}

/** Inbound XML written the way the Official Account docs show each type. */
const SAMPLES = {
  text: `<xml>
  <ToUserName><![CDATA[toUser]]></ToUserName>
  <FromUserName><![CDATA[fromUser]]></FromUserName>
  <CreateTime>1348831860</CreateTime>
  <MsgType><![CDATA[text]]></MsgType>
  <Content><![CDATA[this is a test]]></Content>
  <MsgId>1234567890123456</MsgId>
</xml>`,
  image: `<xml>
  <ToUserName><![CDATA[toUser]]></ToUserName>
  <FromUserName><![CDATA[fromUser]]></FromUserName>
  <CreateTime>1348831860</CreateTime>
  <MsgType><![CDATA[image]]></MsgType>
  <PicUrl><![CDATA[this is a url]]></PicUrl>
  <MediaId><![CDATA[media_id]]></MediaId>
  <MsgId>1234567890123456</MsgId>
</xml>`,
  voice: `<xml>
  <ToUserName><![CDATA[toUser]]></ToUserName>
  <FromUserName><![CDATA[fromUser]]></FromUserName>
  <CreateTime>1357290913</CreateTime>
  <MsgType><![CDATA[voice]]></MsgType>
  <MediaId><![CDATA[media_id]]></MediaId>
  <Format><![CDATA[Format]]></Format>
  <Recognition><![CDATA[腾讯微信团队]]></Recognition>
  <MsgId>1234567890123456</MsgId>
</xml>`,
  video: `<xml>
  <ToUserName><![CDATA[toUser]]></ToUserName>
  <FromUserName><![CDATA[fromUser]]></FromUserName>
  <CreateTime>1357290913</CreateTime>
  <MsgType><![CDATA[video]]></MsgType>
  <MediaId><![CDATA[media_id]]></MediaId>
  <ThumbMediaId><![CDATA[thumb_media_id]]></ThumbMediaId>
  <MsgId>1234567890123456</MsgId>
</xml>`,
  shortvideo: `<xml>
  <ToUserName><![CDATA[toUser]]></ToUserName>
  <FromUserName><![CDATA[fromUser]]></FromUserName>
  <CreateTime>1357290913</CreateTime>
  <MsgType><![CDATA[shortvideo]]></MsgType>
  <MediaId><![CDATA[media_id]]></MediaId>
  <ThumbMediaId><![CDATA[thumb_media_id]]></ThumbMediaId>
  <MsgId>1234567890123456</MsgId>
</xml>`,
  location: `<xml>
  <ToUserName><![CDATA[toUser]]></ToUserName>
  <FromUserName><![CDATA[fromUser]]></FromUserName>
  <CreateTime>1351776360</CreateTime>
  <MsgType><![CDATA[location]]></MsgType>
  <Location_X>23.134521</Location_X>
  <Location_Y>113.358803</Location_Y>
  <Scale>20</Scale>
  <Label><![CDATA[位置信息]]></Label>
  <MsgId>1234567890123456</MsgId>
</xml>`,
  link: `<xml>
  <ToUserName><![CDATA[toUser]]></ToUserName>
  <FromUserName><![CDATA[fromUser]]></FromUserName>
  <CreateTime>1351776360</CreateTime>
  <MsgType><![CDATA[link]]></MsgType>
  <Title><![CDATA[公众平台官网链接]]></Title>
  <Description><![CDATA[公众平台官网链接]]></Description>
  <Url><![CDATA[url]]></Url>
  <MsgId>1234567890123456</MsgId>
</xml>`,
  subscribe: `<xml>
  <ToUserName><![CDATA[toUser]]></ToUserName>
  <FromUserName><![CDATA[FromUser]]></FromUserName>
  <CreateTime>123456789</CreateTime>
  <MsgType><![CDATA[event]]></MsgType>
  <Event><![CDATA[subscribe]]></Event>
</xml>`,
  subscribeByQr: `<xml>
  <ToUserName><![CDATA[toUser]]></ToUserName>
  <FromUserName><![CDATA[FromUser]]></FromUserName>
  <CreateTime>123456789</CreateTime>
  <MsgType><![CDATA[event]]></MsgType>
  <Event><![CDATA[subscribe]]></Event>
  <EventKey><![CDATA[qrscene_123123]]></EventKey>
  <Ticket><![CDATA[TICKET]]></Ticket>
</xml>`,
  unsubscribe: `<xml>
  <ToUserName><![CDATA[toUser]]></ToUserName>
  <FromUserName><![CDATA[FromUser]]></FromUserName>
  <CreateTime>123456789</CreateTime>
  <MsgType><![CDATA[event]]></MsgType>
  <Event><![CDATA[unsubscribe]]></Event>
</xml>`,
  scan: `<xml>
  <ToUserName><![CDATA[toUser]]></ToUserName>
  <FromUserName><![CDATA[FromUser]]></FromUserName>
  <CreateTime>123456789</CreateTime>
  <MsgType><![CDATA[event]]></MsgType>
  <Event><![CDATA[SCAN]]></Event>
  <EventKey><![CDATA[SCENE_VALUE]]></EventKey>
  <Ticket><![CDATA[TICKET]]></Ticket>
</xml>`,
  locationEvent: `<xml>
  <ToUserName><![CDATA[toUser]]></ToUserName>
  <FromUserName><![CDATA[fromUser]]></FromUserName>
  <CreateTime>123456789</CreateTime>
  <MsgType><![CDATA[event]]></MsgType>
  <Event><![CDATA[LOCATION]]></Event>
  <Latitude>23.137466</Latitude>
  <Longitude>113.352425</Longitude>
  <Precision>119.385040</Precision>
</xml>`,
  click: `<xml>
  <ToUserName><![CDATA[toUser]]></ToUserName>
  <FromUserName><![CDATA[FromUser]]></FromUserName>
  <CreateTime>123456789</CreateTime>
  <MsgType><![CDATA[event]]></MsgType>
  <Event><![CDATA[CLICK]]></Event>
  <EventKey><![CDATA[EVENTKEY]]></EventKey>
</xml>`,
  view: `<xml>
  <ToUserName><![CDATA[toUser]]></ToUserName>
  <FromUserName><![CDATA[FromUser]]></FromUserName>
  <CreateTime>123456789</CreateTime>
  <MsgType><![CDATA[event]]></MsgType>
  <Event><![CDATA[VIEW]]></Event>
  <EventKey><![CDATA[www.qq.com]]></EventKey>
  <MenuId>MENUID</MenuId>
</xml>`,
  templateSendJobFinish: `<xml>
  <ToUserName><![CDATA[gh_7f083739789a]]></ToUserName>
  <FromUserName><![CDATA[oia2TjuEGTNoeX76QEjQNrcURxG8]]></FromUserName>
  <CreateTime>1395658920</CreateTime>
  <MsgType><![CDATA[event]]></MsgType>
  <Event><![CDATA[TEMPLATESENDJOBFINISH]]></Event>
  <MsgID>200163836</MsgID>
  <Status><![CDATA[success]]></Status>
</xml>`,
  subscribeMsgPopup: `<xml>
  <ToUserName><![CDATA[gh_123456789abc]]></ToUserName>
  <FromUserName><![CDATA[otFpruAK8D-E6EfStSYonYSBZ8_4]]></FromUserName>
  <CreateTime>1610969440</CreateTime>
  <MsgType><![CDATA[event]]></MsgType>
  <Event><![CDATA[subscribe_msg_popup_event]]></Event>
  <SubscribeMsgPopupEvent>
    <List>
      <TemplateId><![CDATA[VRR0UEO9VJOLs0MHlU0OilqX6MVFDwH3_3gz3Oc0NIc]]></TemplateId>
      <SubscribeStatusString><![CDATA[accept]]></SubscribeStatusString>
      <PopupScene>2</PopupScene>
    </List>
    <List>
      <TemplateId><![CDATA[9nLIlbOQZC5Y89AZteFEux3WCXRRRG5Wfzkpssu4bLI]]></TemplateId>
      <SubscribeStatusString><![CDATA[reject]]></SubscribeStatusString>
      <PopupScene>2</PopupScene>
    </List>
  </SubscribeMsgPopupEvent>
</xml>`,
  subscribeMsgChange: `<xml>
  <ToUserName><![CDATA[gh_123456789abc]]></ToUserName>
  <FromUserName><![CDATA[otFpruAK8D-E6EfStSYonYSBZ8_4]]></FromUserName>
  <CreateTime>1610969440</CreateTime>
  <MsgType><![CDATA[event]]></MsgType>
  <Event><![CDATA[subscribe_msg_change_event]]></Event>
  <SubscribeMsgChangeEvent>
    <List>
      <TemplateId><![CDATA[VRR0UEO9VJOLs0MHlU0OilqX6MVFDwH3_3gz3Oc0NIc]]></TemplateId>
      <SubscribeStatusString><![CDATA[reject]]></SubscribeStatusString>
    </List>
  </SubscribeMsgChangeEvent>
</xml>`,
  subscribeMsgSent: `<xml>
  <ToUserName><![CDATA[gh_123456789abc]]></ToUserName>
  <FromUserName><![CDATA[otFpruAK8D-E6EfStSYonYSBZ8_4]]></FromUserName>
  <CreateTime>1610969468</CreateTime>
  <MsgType><![CDATA[event]]></MsgType>
  <Event><![CDATA[subscribe_msg_sent_event]]></Event>
  <SubscribeMsgSentEvent>
    <List>
      <TemplateId><![CDATA[VRR0UEO9VJOLs0MHlU0OilqX6MVFDwH3_3gz3Oc0NIc]]></TemplateId>
      <MsgID>1700827132819554304</MsgID>
      <ErrorCode>0</ErrorCode>
      <ErrorStatus><![CDATA[success]]></ErrorStatus>
    </List>
  </SubscribeMsgSentEvent>
</xml>`,
} as const;

describe('parseOfficialAccountMessage: messages', () => {
  it('parses a text message, keeping the 64-bit MsgId as a string', () => {
    expect(parse(SAMPLES.text)).toMatchObject({
      kind: 'text',
      toUserName: 'toUser',
      fromUserName: 'fromUser',
      createTime: 1348831860,
      msgType: 'text',
      content: 'this is a test',
      msgId: '1234567890123456',
    });
    expect(parse(SAMPLES.text.replace('1234567890123456', '6265058147855266278'))).toMatchObject({
      msgId: '6265058147855266278',
    });
  });

  it('keeps the raw fields', () => {
    expect(parse(SAMPLES.text).raw).toMatchObject({ Content: 'this is a test' });
  });

  it('parses image, voice, video, shortvideo, location and link messages', () => {
    expect(parse(SAMPLES.image)).toMatchObject({ kind: 'image', picUrl: 'this is a url', mediaId: 'media_id' });
    expect(parse(SAMPLES.voice)).toMatchObject({
      kind: 'voice',
      mediaId: 'media_id',
      format: 'Format',
      recognition: '腾讯微信团队',
    });
    expect(parse(SAMPLES.video)).toMatchObject({ kind: 'video', mediaId: 'media_id', thumbMediaId: 'thumb_media_id' });
    expect(parse(SAMPLES.shortvideo)).toMatchObject({ kind: 'shortvideo', thumbMediaId: 'thumb_media_id' });
    expect(parse(SAMPLES.location)).toMatchObject({
      kind: 'location',
      latitude: 23.134521,
      longitude: 113.358803,
      scale: 20,
      label: '位置信息',
      msgId: '1234567890123456',
    });
    expect(parse(SAMPLES.link)).toMatchObject({
      kind: 'link',
      title: '公众平台官网链接',
      description: '公众平台官网链接',
      url: 'url',
    });
  });

  it('leaves recognition out of a voice message without it', () => {
    const message = parse(SAMPLES.voice.replace(/<Recognition>.*<\/Recognition>/, ''));
    expect(message.kind).toBe('voice');
    expect(message).not.toHaveProperty('recognition');
  });
});

describe('parseOfficialAccountMessage: fields the docs and peers document', () => {
  it('accepts a text message whose id is spelled <MsgID> (WxJava fixture)', () => {
    expect(parse(WXJAVA_TEXT_WITH_MSGID_CAPITAL)).toMatchObject({ kind: 'text', content: 'this is a test', msgId: '1234567890123456' });
  });

  it('keeps MediaId16K on a voice message and MsgDataId and Idx on a message from an article', () => {
    expect(parse(DOCS_VOICE_WITH_16K)).toMatchObject({
      kind: 'voice',
      format: 'Format',
      recognition: '腾讯微信团队',
      mediaId16K: 'media_id_16k',
    });
    expect(parse(DOCS_TEXT_FROM_ARTICLE)).toMatchObject({ kind: 'text', msgDataId: 'xxxx', idx: 'xxxx' });
    expect(parse(SAMPLES.text)).not.toHaveProperty('msgDataId');
  });

  it('keeps a subscribe EventKey that is not a QR scene (pay-to-follow)', () => {
    const message = parse(PAY_TO_FOLLOW_SUBSCRIBE);
    expect(message).toMatchObject({ kind: 'event.subscribe', eventKey: 'last_trade_no_4200001234202601011234567890' });
    expect(message).not.toHaveProperty('scene');
  });

  it('parses MASSSENDJOBFINISH with its counts and copyright check (docs sample, WxJava fixture)', () => {
    expect(parse(WXJAVA_MASS_SEND_JOB_FINISH)).toEqual(
      expect.objectContaining({
        kind: 'event.mass_send_job_finish',
        event: 'MASSSENDJOBFINISH',
        msgId: '1000001625',
        status: 'err(30003)',
        totalCount: 0,
        filterCount: 0,
        sentCount: 0,
        errorCount: 0,
        copyrightCheck: {
          count: 2,
          checkState: '2',
          items: [1, 2].map((n) => ({
            articleIdx: String(n),
            userDeclareState: '0',
            auditState: '2',
            originalArticleUrl: `Url_${n}`,
            originalArticleType: '1',
            canReprint: '1',
            needReplaceContent: '1',
            needShowReprintSource: '1',
          })),
        },
        articleUrls: { items: [] },
      }),
    );
  });

  it('parses a successful MASSSENDJOBFINISH with an empty ResultList and its ArticleUrlResult', () => {
    expect(parse(COMMUNITY_MASS_SEND_JOB_FINISH_SUCCESS)).toMatchObject({
      kind: 'event.mass_send_job_finish',
      msgId: '1000000003',
      status: 'send success',
      totalCount: 4,
      sentCount: 4,
      copyrightCheck: { count: 0, checkState: '0', items: [] },
      articleUrls: { count: 1, items: [{ articleIdx: '1', articleUrl: 'http://mp.weixin.qq.com/s/8yzT20EvmDg37Jso9nsIIw' }] },
    });
  });

  it('returns unknown for a MASSSENDJOBFINISH without its MsgID', () => {
    expect(parse(WXJAVA_MASS_SEND_JOB_FINISH.replace(/<MsgID>.*<\/MsgID>/, ''))).toMatchObject({
      kind: 'unknown',
      event: 'MASSSENDJOBFINISH',
    });
  });
});

describe('parseOfficialAccountMessage: events', () => {
  it('parses a plain subscribe', () => {
    const message = parse(SAMPLES.subscribe);
    expect(message).toMatchObject({ kind: 'event.subscribe', event: 'subscribe', fromUserName: 'FromUser' });
    expect(message).not.toHaveProperty('scene');
    expect(message).not.toHaveProperty('eventKey');
  });

  it('parses a subscribe through a parametric QR code, stripping qrscene_', () => {
    expect(parse(SAMPLES.subscribeByQr)).toMatchObject({
      kind: 'event.subscribe',
      eventKey: 'qrscene_123123',
      scene: '123123',
      ticket: 'TICKET',
    });
  });

  it('treats an empty EventKey on subscribe as absent', () => {
    const message = parse(SAMPLES.subscribe.replace('</Event>', '</Event><EventKey><![CDATA[]]></EventKey>'));
    expect(message).not.toHaveProperty('eventKey');
  });

  it('parses unsubscribe, SCAN, LOCATION, CLICK and VIEW', () => {
    expect(parse(SAMPLES.unsubscribe)).toMatchObject({ kind: 'event.unsubscribe' });
    expect(parse(SAMPLES.scan)).toMatchObject({ kind: 'event.scan', scene: 'SCENE_VALUE', ticket: 'TICKET' });
    expect(parse(SAMPLES.locationEvent)).toMatchObject({
      kind: 'event.location',
      latitude: 23.137466,
      longitude: 113.352425,
      precision: 119.38504,
    });
    expect(parse(SAMPLES.click)).toMatchObject({ kind: 'event.click', eventKey: 'EVENTKEY' });
    expect(parse(SAMPLES.view)).toMatchObject({ kind: 'event.view', eventKey: 'www.qq.com', menuId: 'MENUID' });
  });

  it('parses TEMPLATESENDJOBFINISH with its MsgID and status', () => {
    expect(parse(SAMPLES.templateSendJobFinish)).toMatchObject({
      kind: 'event.template_send_job_finish',
      msgId: '200163836',
      status: 'success',
    });
  });

  it('parses subscribe message popup events with several templates', () => {
    const message = parse(SAMPLES.subscribeMsgPopup);
    expect(message).toMatchObject({
      kind: 'event.subscribe_msg_popup',
      items: [
        { templateId: 'VRR0UEO9VJOLs0MHlU0OilqX6MVFDwH3_3gz3Oc0NIc', status: 'accept', popupScene: '2' },
        { templateId: '9nLIlbOQZC5Y89AZteFEux3WCXRRRG5Wfzkpssu4bLI', status: 'reject', popupScene: '2' },
      ],
    });
  });

  it('parses subscribe message change and sent events with a single List', () => {
    expect(parse(SAMPLES.subscribeMsgChange)).toMatchObject({
      kind: 'event.subscribe_msg_change',
      items: [{ templateId: 'VRR0UEO9VJOLs0MHlU0OilqX6MVFDwH3_3gz3Oc0NIc', status: 'reject' }],
    });
    expect(parse(SAMPLES.subscribeMsgSent)).toMatchObject({
      kind: 'event.subscribe_msg_sent',
      items: [
        {
          templateId: 'VRR0UEO9VJOLs0MHlU0OilqX6MVFDwH3_3gz3Oc0NIc',
          msgId: '1700827132819554304',
          errorCode: '0',
          errorStatus: 'success',
        },
      ],
    });
  });
});

describe('parseOfficialAccountMessage: the menu tools', () => {
  it('reads the scan, the pictures and the location the menu tools push, and the mini-program a menu opens', () => {
    expect(parse(DOC_MENU_SCANCODE_PUSH)).toMatchObject({
      kind: 'event.menu_scan',
      event: 'scancode_push',
      eventKey: '6',
      scanType: 'qrcode',
      scanResult: '1',
      waitMsg: false,
    });
    expect(parse(DOC_MENU_SCANCODE_WAITMSG)).toMatchObject({ kind: 'event.menu_scan', scanResult: '2', waitMsg: true });
    expect(parse(DOC_MENU_PIC_SYSPHOTO)).toMatchObject({
      kind: 'event.menu_pics',
      eventKey: '6',
      source: 'sysphoto',
      count: 1,
      picMd5Sums: ['1b5f7c23b5bf75682a53e7b6d163e185'],
    });
    expect(parse(DOC_MENU_PIC_PHOTO_OR_ALBUM)).toMatchObject({
      kind: 'event.menu_pics',
      source: 'photo_or_album',
      picMd5Sums: ['5a75aaca956d97be686719218f275c6b'],
    });
    expect(parse(DOC_MENU_PIC_WEIXIN)).toMatchObject({ kind: 'event.menu_pics', source: 'weixin' });
    expect(parse(DOC_MENU_LOCATION_SELECT)).toMatchObject({
      kind: 'event.menu_location',
      eventKey: '6',
      latitude: 23,
      longitude: 113,
      scale: 15,
      label: ' 广州市海珠区客村艺苑路 106号',
      poiname: '',
    });
    expect(parse(DOC_MENU_VIEW_MINIPROGRAM)).toMatchObject({
      kind: 'event.view_miniprogram',
      eventKey: 'pages/index/index',
      menuId: 'MENUID',
    });
  });

  it('several pictures are read in order; without its nested element a menu push stays unknown', () => {
    const three = DOC_MENU_PIC_WEIXIN.replace('<Count>1</Count>', '<Count>3</Count>').replace(
      /<PicList>[\s\S]*<\/PicList>/,
      '<PicList><item><PicMd5Sum><![CDATA[a]]></PicMd5Sum></item><item><PicMd5Sum><![CDATA[b]]></PicMd5Sum></item><item><PicMd5Sum><![CDATA[c]]></PicMd5Sum></item></PicList>',
    );
    expect(parse(three)).toMatchObject({ count: 3, picMd5Sums: ['a', 'b', 'c'] });
    expect(parse(DOC_MENU_SCANCODE_PUSH.replace(/<ScanCodeInfo>[\s\S]*<\/ScanCodeInfo>/, ''))).toMatchObject({
      kind: 'unknown',
      event: 'scancode_push',
    });
    expect(parse(DOC_MENU_LOCATION_SELECT.replace('<![CDATA[23]]>', 'north'))).toMatchObject({ kind: 'unknown' });
  });

  it('keys them by their body as when they were unknown: two codes scanned through one button in one second are two events', () => {
    const other = DOC_MENU_SCANCODE_PUSH.replace('<![CDATA[1]]></ScanResult>', '<![CDATA[booth-42]]></ScanResult>');
    expect(officialAccountDedupeKey(APP_ID, parse(other))).not.toBe(officialAccountDedupeKey(APP_ID, parse(DOC_MENU_SCANCODE_PUSH)));
    expect(officialAccountDedupeKey(APP_ID, parse(DOC_MENU_SCANCODE_PUSH))).toBe(
      officialAccountDedupeKey(APP_ID, parse(DOC_MENU_SCANCODE_PUSH)),
    );
    // The key the push had while it was an unknown event (sender, time, event, key, the body's
    // digest) is the key it has now, so a retry across the upgrade is still a retry.
    const message = parse(DOC_MENU_SCANCODE_PUSH);
    expect(officialAccountDedupeKey(APP_ID, message)).toBe(
      compactKey(`oa:${APP_ID}:evt:oMgHVjngRipVsoxg6TuX3vz6glDg:1408090502:scancode_push:6:${digestFields(message.raw)}`),
    );
  });
});

describe('parseOfficialAccountMessage: unknown and malformed input', () => {
  it('returns unknown for a message type it does not know, keeping its MsgId', () => {
    const message = parse(SAMPLES.text.replace('[text]', '[miniprogrampage]'));
    expect(message).toMatchObject({ kind: 'unknown', msgType: 'miniprogrampage', msgId: '1234567890123456' });
  });

  it('returns unknown with the event name for an event it does not know', () => {
    expect(parse(SAMPLES.click.replace('CLICK', 'some_future_event'))).toMatchObject({
      kind: 'unknown',
      event: 'some_future_event',
    });
  });

  it('returns unknown when a known kind lacks what identifies it', () => {
    expect(parse(SAMPLES.text.replace(/<MsgId>.*<\/MsgId>/, ''))).toMatchObject({ kind: 'unknown' });
    expect(parse(SAMPLES.location.replace('23.134521', 'north'))).toMatchObject({ kind: 'unknown' });
    expect(parse(SAMPLES.templateSendJobFinish.replace(/<MsgID>.*<\/MsgID>/, ''))).toMatchObject({ kind: 'unknown' });
    expect(parse(SAMPLES.subscribe.replace(/<Event>.*<\/Event>/, ''))).toMatchObject({ kind: 'unknown' });
  });

  it.each(['ToUserName', 'FromUserName', 'CreateTime', 'MsgType'])('reports malformed_xml without %s', (field) => {
    const xml = SAMPLES.text.replace(new RegExp(`<${field}>.*</${field}>`), '');
    expect(catchProtocolCode(() => parse(xml))).toBe('malformed_xml');
  });

  it('reports malformed_xml for a CreateTime that is not an integer', () => {
    expect(catchProtocolCode(() => parse(SAMPLES.text.replace('1348831860', 'yesterday')))).toBe('malformed_xml');
    expect(catchProtocolCode(() => parse(SAMPLES.text.replace('1348831860', '1.5')))).toBe('malformed_xml');
  });
});

describe('officialAccountDedupeKey', () => {
  it('keys messages on the sender and MsgId', () => {
    expect(officialAccountDedupeKey(APP_ID, parse(SAMPLES.text))).toBe(`oa:${APP_ID}:msg:fromUser:1234567890123456`);
  });

  it('keeps apart the same MsgId from two users, and gives a retry the same key', () => {
    const first = officialAccountDedupeKey(APP_ID, parse(SAMPLES.text.replace('fromUser', 'o_user_a')));
    const second = officialAccountDedupeKey(APP_ID, parse(SAMPLES.text.replace('fromUser', 'o_user_b')));
    expect(first).not.toBe(second);
    expect(officialAccountDedupeKey(APP_ID, parse(SAMPLES.text.replace('fromUser', 'o_user_a')))).toBe(first);
  });

  it('keys a text message that spells its id MsgID like one that spells it MsgId', () => {
    expect(officialAccountDedupeKey(APP_ID, parse(WXJAVA_TEXT_WITH_MSGID_CAPITAL))).toBe(
      officialAccountDedupeKey(APP_ID, parse(SAMPLES.text)),
    );
  });

  it('includes MsgID for MASSSENDJOBFINISH, so two mass sends ending in one second stay apart', () => {
    const key = officialAccountDedupeKey(APP_ID, parse(WXJAVA_MASS_SEND_JOB_FINISH));
    expect(key).toBe(`oa:${APP_ID}:evt:oV5CrjpxgaGXNHIQigzNlgLTnwic:1481013459:MASSSENDJOBFINISH::1000001625`);
    const other = officialAccountDedupeKey(APP_ID, parse(WXJAVA_MASS_SEND_JOB_FINISH.replace('1000001625', '1000001626')));
    expect(other).not.toBe(key);
  });

  it('keys events on sender, time, event and event key', () => {
    expect(officialAccountDedupeKey(APP_ID, parse(SAMPLES.subscribeByQr))).toBe(
      `oa:${APP_ID}:evt:FromUser:123456789:subscribe:qrscene_123123`,
    );
    expect(officialAccountDedupeKey(APP_ID, parse(SAMPLES.unsubscribe))).toBe(`oa:${APP_ID}:evt:FromUser:123456789:unsubscribe:`);
  });

  it('keeps apart different events of one user in the same second', () => {
    const keys = [SAMPLES.subscribeByQr, SAMPLES.scan, SAMPLES.click, SAMPLES.view].map((xml) =>
      officialAccountDedupeKey(APP_ID, parse(xml)),
    );
    expect(new Set(keys).size).toBe(keys.length);
    const otherClick = officialAccountDedupeKey(APP_ID, parse(SAMPLES.click.replace('EVENTKEY', 'OTHER')));
    expect(keys).not.toContain(otherClick);
  });

  it('gives a retry of the same push the same key', () => {
    for (const xml of Object.values(SAMPLES)) {
      expect(officialAccountDedupeKey(APP_ID, parse(xml))).toBe(officialAccountDedupeKey(APP_ID, parse(xml)));
    }
  });

  it('includes MsgID for TEMPLATESENDJOBFINISH', () => {
    const key = officialAccountDedupeKey(APP_ID, parse(SAMPLES.templateSendJobFinish));
    expect(key).toBe(`oa:${APP_ID}:evt:oia2TjuEGTNoeX76QEjQNrcURxG8:1395658920:TEMPLATESENDJOBFINISH::200163836`);
  });

  it('includes the template ids of subscribe message events', () => {
    const key = officialAccountDedupeKey(APP_ID, parse(SAMPLES.subscribeMsgPopup));
    expect(key).toContain('VRR0UEO9VJOLs0MHlU0OilqX6MVFDwH3_3gz3Oc0NIc');
    expect(key).toContain('9nLIlbOQZC5Y89AZteFEux3WCXRRRG5Wfzkpssu4bLI');
    const sent = officialAccountDedupeKey(APP_ID, parse(SAMPLES.subscribeMsgSent));
    expect(sent).toContain('VRR0UEO9VJOLs0MHlU0OilqX6MVFDwH3_3gz3Oc0NIc/1700827132819554304');
  });

  it('keeps unknown events with different bodies apart', () => {
    const a = parse(SAMPLES.click.replace('CLICK', 'some_future_event').replace('</xml>', '<Result>1</Result></xml>'));
    const b = parse(SAMPLES.click.replace('CLICK', 'some_future_event').replace('</xml>', '<Result>2</Result></xml>'));
    expect(officialAccountDedupeKey(APP_ID, a)).not.toBe(officialAccountDedupeKey(APP_ID, b));
  });

  it('compacts keys longer than 191 characters', () => {
    const key = officialAccountDedupeKey(APP_ID, parse(SAMPLES.click.replace('EVENTKEY', 'k'.repeat(300))));
    expect(key.length).toBeLessThanOrEqual(191);
    expect(key).toMatch(/#[0-9a-f]{64}$/);
  });
});
