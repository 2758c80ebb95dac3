/**
 * Inbound pushes as the platform documents them and as peers' test suites publish them, for the
 * field-by-field tests of parsing and mapping. Each says where it comes from.
 */

/**
 * WxJava weixin-java-mp WxMpXmlMessageTest#testFromXml2: a text message that spells its id
 * `<MsgID>`, carrying every field of every type at once (the parser must take only text's).
 */
export const WXJAVA_TEXT_WITH_MSGID_CAPITAL = `<xml><ToUserName><![CDATA[toUser]]></ToUserName><FromUserName><![CDATA[fromUser]]></FromUserName> <CreateTime>1348831860</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[this is a test]]></Content><MsgID>1234567890123456</MsgID><PicUrl><![CDATA[this is a url]]></PicUrl><MediaId><![CDATA[media_id]]></MediaId><Format><![CDATA[Format]]></Format><ThumbMediaId><![CDATA[thumb_media_id]]></ThumbMediaId><Location_X>23.134521</Location_X><Location_Y>113.358803</Location_Y><Scale>20</Scale><Label><![CDATA[位置信息]]></Label><Description><![CDATA[公众平台官网链接]]></Description><Url><![CDATA[url]]></Url><Title><![CDATA[公众平台官网链接]]></Title><Event><![CDATA[subscribe]]></Event><EventKey><![CDATA[qrscene_123123]]></EventKey><Ticket><![CDATA[TICKET]]></Ticket><Latitude>23.137466</Latitude><Longitude>113.352425</Longitude><Precision>119.385040</Precision></xml>`;

/**
 * WxJava WxMpXmlMessageTest#testFromXml_MASSSENDJOBFINISH, itself the sample of the Official
 * Account docs ("事件推送群发结果"): a mass send refused by the originality check.
 */
export const WXJAVA_MASS_SEND_JOB_FINISH = `<xml>
<ToUserName><![CDATA[gh_4d00ed8d6399]]></ToUserName>
<FromUserName><![CDATA[oV5CrjpxgaGXNHIQigzNlgLTnwic]]></FromUserName>
<CreateTime>1481013459</CreateTime>
<MsgType><![CDATA[event]]></MsgType>
<Event><![CDATA[MASSSENDJOBFINISH]]></Event>
<MsgID>1000001625</MsgID>
<Status><![CDATA[err(30003)]]></Status>
<TotalCount>0</TotalCount>
<FilterCount>0</FilterCount>
<SentCount>0</SentCount>
<ErrorCount>0</ErrorCount>
<CopyrightCheckResult>
<Count>2</Count>
<ResultList>
<item>
<ArticleIdx>1</ArticleIdx>
<UserDeclareState>0</UserDeclareState>
<AuditState>2</AuditState>
<OriginalArticleUrl><![CDATA[Url_1]]></OriginalArticleUrl>
<OriginalArticleType>1</OriginalArticleType>
<CanReprint>1</CanReprint>
<NeedReplaceContent>1</NeedReplaceContent>
<NeedShowReprintSource>1</NeedShowReprintSource>
</item>
<item>
<ArticleIdx>2</ArticleIdx>
<UserDeclareState>0</UserDeclareState>
<AuditState>2</AuditState>
<OriginalArticleUrl><![CDATA[Url_2]]></OriginalArticleUrl>
<OriginalArticleType>1</OriginalArticleType>
<CanReprint>1</CanReprint>
<NeedReplaceContent>1</NeedReplaceContent>
<NeedShowReprintSource>1</NeedShowReprintSource>
</item>
</ResultList>
<CheckState>2</CheckState>
</CopyrightCheckResult>
</xml>`;

/**
 * A successful mass send as a developer posted it on the WeChat developer community (2022):
 * an empty copyright ResultList, and the ArticleUrlResult the docs added later.
 */
export const COMMUNITY_MASS_SEND_JOB_FINISH_SUCCESS = `<xml><ToUserName><![CDATA[gh_1f567c6f4bbd]]></ToUserName>
<FromUserName><![CDATA[ov7hP6b1X_yWfnX7Jy3IFQnwJzzM]]></FromUserName>
<CreateTime>1650896441</CreateTime>
<MsgType><![CDATA[event]]></MsgType>
<Event><![CDATA[MASSSENDJOBFINISH]]></Event>
<MsgID>1000000003</MsgID>
<Status><![CDATA[send success]]></Status>
<TotalCount>4</TotalCount>
<FilterCount>4</FilterCount>
<SentCount>4</SentCount>
<ErrorCount>0</ErrorCount>
<CopyrightCheckResult><Count>0</Count>
<ResultList></ResultList>
<CheckState>0</CheckState>
</CopyrightCheckResult>
<ArticleUrlResult><Count>1</Count>
<ResultList><item><ArticleIdx>1</ArticleIdx>
<ArticleUrl><![CDATA[http://mp.weixin.qq.com/s/8yzT20EvmDg37Jso9nsIIw]]></ArticleUrl>
</item>
</ResultList>
</ArticleUrlResult>
</xml>`;

/** The docs' voice message with speech recognition on, and the 16 kHz media id the docs added. */
export const DOCS_VOICE_WITH_16K = `<xml>
  <ToUserName><![CDATA[toUser]]></ToUserName>
  <FromUserName><![CDATA[fromUser]]></FromUserName>
  <CreateTime>1357290913</CreateTime>
  <MsgType><![CDATA[voice]]></MsgType>
  <MediaId><![CDATA[media_id]]></MediaId>
  <Format><![CDATA[Format]]></Format>
  <Recognition><![CDATA[腾讯微信团队]]></Recognition>
  <MsgId>1234567890123456</MsgId>
  <MediaId16K><![CDATA[media_id_16k]]></MediaId16K>
</xml>`;

/** The docs' text message when it comes from an article: MsgDataId and Idx ("消息如果来自文章时才有"). */
export const DOCS_TEXT_FROM_ARTICLE = `<xml>
  <ToUserName><![CDATA[toUser]]></ToUserName>
  <FromUserName><![CDATA[fromUser]]></FromUserName>
  <CreateTime>1348831860</CreateTime>
  <MsgType><![CDATA[text]]></MsgType>
  <Content><![CDATA[this is a test]]></Content>
  <MsgId>1234567890123456</MsgId>
  <MsgDataId>xxxx</MsgDataId>
  <Idx>xxxx</Idx>
</xml>`;

/** A follow after paying (付费关注): EventKey is not a QR scene but `last_trade_no_` + the order. */
export const PAY_TO_FOLLOW_SUBSCRIBE = `<xml>
  <ToUserName><![CDATA[toUser]]></ToUserName>
  <FromUserName><![CDATA[FromUser]]></FromUserName>
  <CreateTime>123456789</CreateTime>
  <MsgType><![CDATA[event]]></MsgType>
  <Event><![CDATA[subscribe]]></Event>
  <EventKey><![CDATA[last_trade_no_4200001234202601011234567890]]></EventKey>
</xml>`;

/**
 * WxJava WxMpXmlMessageTest#testFromXml: a scancode_waitmsg menu push with its nested
 * ScanCodeInfo (trimmed to the event's own fields).
 */
export const WXJAVA_SCANCODE_WAITMSG = `<xml><ToUserName><![CDATA[toUser]]></ToUserName><FromUserName><![CDATA[fromUser]]></FromUserName><CreateTime>1348831860</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[scancode_waitmsg]]></Event><EventKey><![CDATA[6]]></EventKey><ScanCodeInfo><ScanType><![CDATA[qrcode]]></ScanType><ScanResult><![CDATA[1]]></ScanResult></ScanCodeInfo></xml>`;

/**
 * The menu tools' pushes, as the custom-menu event page shows them (scancode_push,
 * scancode_waitmsg, pic_sysphoto, pic_photo_or_album, pic_weixin, location_select,
 * view_miniprogram), with the page's line breaks between elements.
 * @link https://developers.weixin.qq.com/doc/offiaccount/Custom_Menus/Custom_Menu_Push.html
 */
const menuPush = (
  createTime: number,
  event: string,
  eventKey: string,
  body: string,
) => `<xml><ToUserName><![CDATA[gh_e136c6e50636]]></ToUserName>
<FromUserName><![CDATA[oMgHVjngRipVsoxg6TuX3vz6glDg]]></FromUserName>
<CreateTime>${createTime}</CreateTime>
<MsgType><![CDATA[event]]></MsgType>
<Event><![CDATA[${event}]]></Event>
<EventKey><![CDATA[${eventKey}]]></EventKey>
${body}
</xml>`;
const scanCodeInfo = (result: string) => `<ScanCodeInfo><ScanType><![CDATA[qrcode]]></ScanType>
<ScanResult><![CDATA[${result}]]></ScanResult>
</ScanCodeInfo>`;
const sendPicsInfo = (md5: string) => `<SendPicsInfo><Count>1</Count>
<PicList><item><PicMd5Sum><![CDATA[${md5}]]></PicMd5Sum>
</item>
</PicList>
</SendPicsInfo>`;
export const DOC_MENU_SCANCODE_PUSH = menuPush(1408090502, 'scancode_push', '6', scanCodeInfo('1'));
export const DOC_MENU_SCANCODE_WAITMSG = menuPush(1408090606, 'scancode_waitmsg', '6', scanCodeInfo('2'));
export const DOC_MENU_PIC_SYSPHOTO = menuPush(1408090651, 'pic_sysphoto', '6', sendPicsInfo('1b5f7c23b5bf75682a53e7b6d163e185'));
export const DOC_MENU_PIC_PHOTO_OR_ALBUM = menuPush(
  1408090816,
  'pic_photo_or_album',
  '6',
  sendPicsInfo('5a75aaca956d97be686719218f275c6b'),
);
export const DOC_MENU_PIC_WEIXIN = menuPush(1408090816, 'pic_weixin', '6', sendPicsInfo('5a75aaca956d97be686719218f275c6b'));
export const DOC_MENU_LOCATION_SELECT = menuPush(
  1408091189,
  'location_select',
  '6',
  `<SendLocationInfo><Location_X><![CDATA[23]]></Location_X>
<Location_Y><![CDATA[113]]></Location_Y>
<Scale><![CDATA[15]]></Scale>
<Label><![CDATA[ 广州市海珠区客村艺苑路 106号]]></Label>
<Poiname><![CDATA[]]></Poiname>
</SendLocationInfo>`,
);
export const DOC_MENU_VIEW_MINIPROGRAM = `<xml>
<ToUserName><![CDATA[toUser]]></ToUserName>
<FromUserName><![CDATA[FromUser]]></FromUserName>
<CreateTime>123456789</CreateTime>
<MsgType><![CDATA[event]]></MsgType>
<Event><![CDATA[view_miniprogram]]></Event>
<EventKey><![CDATA[pages/index/index]]></EventKey>
<MenuId>MENUID</MenuId>
</xml>`;
