import { buildSubscribeSendBody, checkSubscribeMessage, subscribeDraftFromPayload } from '../../../server/wechat/subscribe-message';

const data = { thing1: { value: '签到奖励' }, number2: { value: '10' } };

describe('subscribe message drafts', () => {
  it('bizsend: page is a web URL (a journey writes page or url), miniprogram is kept, the mini-program-only fields are not', () => {
    const draft = subscribeDraftFromPayload('oa', {
      template_id: 'T1',
      data,
      url: 'https://flywheel.example/r/abc',
      miniprogram: { appid: 'wxmini', pagePath: 'pages/a' },
      miniprogram_state: 'trial',
    });
    expect(draft).toEqual({
      templateId: 'T1',
      data: { thing1: '签到奖励', number2: '10' },
      page: 'https://flywheel.example/r/abc',
      miniprogram: { appid: 'wxmini', pagepath: 'pages/a' },
      miniprogramState: null,
      lang: null,
    });
    expect(draft && buildSubscribeSendBody('oa', 'oOPENID', draft)).toEqual({
      touser: 'oOPENID',
      template_id: 'T1',
      page: 'https://flywheel.example/r/abc',
      miniprogram: { appid: 'wxmini', pagepath: 'pages/a' },
      data: { thing1: { value: '签到奖励' }, number2: { value: '10' } },
    });
  });

  it('subscribe/send: page is a mini-program path (an http URL is left out: the mini-program cannot open it), with state and lang', () => {
    const web = subscribeDraftFromPayload('mp', { template_id: 'T1', data, page: 'https://x.example', url: 'https://x.example' });
    expect(web?.page).toBeNull();
    const draft = subscribeDraftFromPayload('mp', {
      template_id: 'T1',
      data,
      page: 'pages/index?id=1',
      miniprogram_state: 'developer',
      lang: 'en_US',
    });
    expect(draft && buildSubscribeSendBody('mp', 'oMP', draft)).toEqual({
      touser: 'oMP',
      template_id: 'T1',
      page: 'pages/index?id=1',
      miniprogram_state: 'developer',
      lang: 'en_US',
      data: { thing1: { value: '签到奖励' }, number2: { value: '10' } },
    });
  });

  it('the field rules of category templates, a bad page URL, state and lang are refused; a payload of another shape is null', () => {
    const bad = subscribeDraftFromPayload('mp', {
      template_id: 'T1',
      data: { thing1: { value: '一'.repeat(21) }, phrase2: { value: 'shipped' } },
      miniprogram_state: 'beta',
      lang: 'fr_FR',
    });
    expect(bad && checkSubscribeMessage('mp', bad).map((v) => `${v.field}:${v.code}`)).toEqual([
      'thing1:too_long',
      'phrase2:bad_chars',
      'miniprogram_state:bad_chars',
      'lang:bad_chars',
    ]);
    const page = subscribeDraftFromPayload('oa', { template_id: 'T1', data, page: 'javascript:alert(1)' });
    expect(page && checkSubscribeMessage('oa', page)).toEqual([{ field: 'url', code: 'bad_url' }]);
    expect(subscribeDraftFromPayload('oa', { template_id: 'T1', data: { thing1: { value: 3 } } })).toBeNull();
    expect(subscribeDraftFromPayload('oa', { msgtype: 'text' })).toBeNull();
  });
});
