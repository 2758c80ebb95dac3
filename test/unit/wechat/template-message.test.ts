import {
  buildTemplateSendBody,
  checkTemplateMessage,
  templateDraftFromPayload,
  type TemplateMessageDraft,
} from '../../../server/wechat/template-message';

const draft = (data: Record<string, string>, extra: Partial<TemplateMessageDraft> = {}): TemplateMessageDraft => ({
  templateId: 'tpl',
  data,
  ...extra,
});

describe('template message rules', () => {
  it('accepts the platform documentation examples of each field kind', () => {
    // Examples from the subscribe-message field table (sendMessage, 参数类型 / 参数要求).
    expect(checkTemplateMessage(draft({ thing1: '老朋友回归礼，满100减30' }))).toEqual([]);
    expect(
      checkTemplateMessage(
        draft({
          character_string2: 'FW-2026-12-07_001',
          number3: '1280',
          letter4: 'ABC',
          phrase5: '已发货',
          name6: '张三',
          name7: 'Christopher Robinson',
          amount8: '¥100.00',
          time9: '2026年12月31日 23:59',
          phone_number10: '+86-0766-66888866',
          car_number11: '粤A8Z888挂',
        }),
      ),
    ).toEqual([]);
  });

  it('refuses first and remark, over-long values by kind, wrong characters and line breaks', () => {
    expect(
      checkTemplateMessage(
        draft({
          first: '您好',
          remark: '感谢',
          thing1: '一二三四五六七八九十一二三四五六七八九十一',
          phrase2: '已经发货了啊',
          phrase3: 'sent',
          name4: '欧阳一二三四五六七八九',
          name5: 'A'.repeat(21),
          number6: '12a',
          character_string7: '中文',
          thing8: '第一行\n第二行',
          keyword9: '',
        }),
      ),
    ).toEqual([
      { field: 'first', code: 'field_removed' },
      { field: 'remark', code: 'field_removed' },
      { field: 'thing1', code: 'too_long', max: 20 },
      { field: 'phrase2', code: 'too_long', max: 5 },
      { field: 'phrase3', code: 'bad_chars' },
      { field: 'name4', code: 'too_long', max: 10 },
      { field: 'name5', code: 'too_long', max: 20 },
      { field: 'number6', code: 'bad_chars' },
      { field: 'character_string7', code: 'bad_chars' },
      { field: 'thing8', code: 'line_break' },
      { field: 'keyword9', code: 'empty_value' },
    ]);
  });

  it('counts characters as code points: twenty emoji are twenty characters', () => {
    expect(checkTemplateMessage(draft({ thing1: '🎉'.repeat(20) }))).toEqual([]);
    expect(checkTemplateMessage(draft({ thing1: '🎉'.repeat(21) }))).toEqual([{ field: 'thing1', code: 'too_long', max: 20 }]);
  });

  it('sends the mini-program and leaves the url out when both are set', () => {
    const body = buildTemplateSendBody({
      touser: 'o1',
      clientMsgId: 'fw1',
      draft: draft({ thing1: '新品' }, { url: 'https://a.example/x', miniprogram: { appid: 'wxmp', pagepath: 'pages/a' } }),
    });
    expect(body).toEqual({
      touser: 'o1',
      template_id: 'tpl',
      client_msg_id: 'fw1',
      data: { thing1: { value: '新品' } },
      miniprogram: { appid: 'wxmp', pagepath: 'pages/a' },
    });
    expect(buildTemplateSendBody({ touser: 'o1', clientMsgId: 'fw1', draft: draft({}, { url: 'https://a.example/x' }) }).url).toBe(
      'https://a.example/x',
    );
  });

  it('reads the outbox payload (the API body without the recipient)', () => {
    expect(templateDraftFromPayload({ template_id: 't', data: { thing1: { value: 'x' } }, url: 'https://u.example' })).toEqual({
      templateId: 't',
      data: { thing1: 'x' },
      url: 'https://u.example',
      miniprogram: null,
    });
    expect(templateDraftFromPayload({ data: {} })).toBeNull();
    expect(templateDraftFromPayload({ template_id: 't', data: { thing1: { value: 3 } } })).toBeNull();
  });
});
