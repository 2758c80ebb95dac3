import {
  diagnose,
  needsConfigFirst,
  signableUrl,
  wecomVersionOf,
  type DiagnoseContext,
  type Diagnosis,
} from '../../../web/mobile/sidebar/diagnose';
import { catalogueFor, SIDEBAR_MESSAGES, ZH_SHARED } from '../../../web/mobile/sidebar/messages';
import { groupTags, hintText, identityBadges } from '../../../web/mobile/sidebar/words';
import type { SidebarContact } from '../../../web/mobile/sidebar/profile-types';

/**
 * The sidebar's diagnosis of WeCom JS-SDK failures (issue 16 §2b): each failure, with what the
 * page knew, names its cause and the setting to change, in both languages. The failure texts are
 * WeCom's own (the SDK's `errMsg`, as its typings document them).
 */
const PAGE = 'https://scrm.example.com/sidebar/?from=toolbar';
const NOW = Date.UTC(2026, 11, 7, 12, 0, 0);
const UA = 'Mozilla/5.0 (Windows NT 10.0) wxwork/4.1.30 MicroMessenger/7.0.1';

function context(overrides: Partial<DiagnoseContext> = {}): DiagnoseContext {
  return {
    entry: 'single_chat_tools',
    agentConfigOk: true,
    signedUrl: PAGE,
    pageUrl: PAGE,
    signedTimestamp: NOW / 1000 - 5,
    deviceNow: NOW,
    userAgent: UA,
    ...overrides,
  };
}

const zh = catalogueFor('zh-CN', ZH_SHARED);
const en = catalogueFor('en', ZH_SHARED);

/** The diagnosis as the page shows it: title, then each cause and its fix, in one language. */
function words(diagnosis: Diagnosis, t = zh): string[] {
  return [
    t.t(`diag.title.${diagnosis.code}`),
    ...diagnosis.causes.flatMap((cause) => [t.t(cause.cause, { entry: 'normal', ...cause.params }), t.t(cause.fix, cause.params)]),
  ];
}

describe('diagnose: getCurExternalContact:fail no permission', () => {
  const failure = { step: 'getCurExternalContact' as const, errMsg: 'getCurExternalContact:fail no permission' };

  it('blames the registration when agentConfig did not succeed', () => {
    const diagnosis = diagnose(failure, context({ agentConfigOk: false }));
    expect(diagnosis.code).toBe('not_registered_as_app');
    expect(words(diagnosis).join('\n')).toContain('agentConfig 未成功');
  });

  it('blames where the page was opened when agentConfig succeeded outside a customer chat', () => {
    const diagnosis = diagnose(failure, context({ entry: 'normal' }));
    expect(diagnosis.code).toBe('outside_chat_toolbar');
    expect(words(diagnosis)).toContain('请从与客户的单聊工具栏打开');
  });

  it('names the app permission, the member setup and the visible range when registered in the right place', () => {
    for (const entry of ['single_chat_tools', 'contact_profile']) {
      const diagnosis = diagnose(failure, context({ entry }));
      expect(diagnosis.code).toBe('customer_contact_not_set_up');
      const text = words(diagnosis).join('\n');
      expect(text).toContain('客户联系');
      expect(text).toContain('可调用接口的应用');
      expect(text).toContain('使用范围');
      expect(text).toContain('可见范围');
    }
  });
});

describe('diagnose: without context of external contact', () => {
  const failure = { step: 'getCurExternalContact' as const, errMsg: 'getCurExternalContact:fail without context of external contact' };

  it.each([
    ['normal', 'diag.cause.workbench'],
    ['group_chat_tools', 'diag.cause.groupChat'],
    ['single_chat_tools', 'diag.cause.noCustomer'],
  ])('opened from %s: says to open it from the one-to-one chat', (entry, cause) => {
    const diagnosis = diagnose(failure, context({ entry }));
    expect(diagnosis.code).toBe('no_customer_context');
    expect(diagnosis.causes.map((c) => c.cause)).toEqual([cause]);
    expect(words(diagnosis)).toContain('请从与客户的单聊工具栏打开');
  });
});

describe('diagnose: invalid signature', () => {
  it('shows the URL that was signed beside the page’s, and names the difference', () => {
    const cases: [string, string, string][] = [
      ['http://scrm.example.com/sidebar/?from=toolbar', PAGE, 'diag.cause.protocol'],
      ['https://scrm.example.com/sidebar?from=toolbar', 'https://scrm.example.com/sidebar/?from=toolbar', 'diag.cause.trailingSlash'],
      ['https://other.example.com/sidebar/?from=toolbar', PAGE, 'diag.cause.host'],
      ['https://scrm.example.com/sidebar/#/x', 'https://scrm.example.com/sidebar/#/x', 'diag.cause.hashSigned'],
      ['https://scrm.example.com/sidebar/', PAGE, 'diag.cause.urlDiffers'],
    ];
    for (const [signedUrl, pageUrl, cause] of cases) {
      const diagnosis = diagnose({ step: 'agentConfig', errMsg: 'agentConfig:fail invalid signature' }, context({ signedUrl, pageUrl }));
      expect(diagnosis.code).toBe('invalid_signature');
      expect(diagnosis.causes[0]?.cause).toBe(cause);
      expect(diagnosis.facts).toContainEqual({ label: 'diag.fact.signedUrl', value: signedUrl });
      expect(diagnosis.facts.find((fact) => fact.label === 'diag.fact.pageUrl')?.value).toBe(pageUrl);
    }
  });

  it('marks the page URL as wrong only when it differs from what was signed', () => {
    const same = diagnose({ step: 'agentConfig', errMsg: 'agentConfig:fail invalid signature' }, context());
    expect(same.facts.find((fact) => fact.label === 'diag.fact.pageUrl')?.wrong).toBe(false);
  });

  it('names clock drift with the signature’s timestamp against the device clock', () => {
    const diagnosis = diagnose(
      { step: 'agentConfig', errMsg: 'agentConfig:fail invalid signature' },
      context({ signedTimestamp: NOW / 1000 - 3600 }),
    );
    expect(diagnosis.causes.map((cause) => cause.cause)).toContain('diag.cause.clockDrift');
    expect(diagnosis.facts).toContainEqual({ label: 'diag.fact.signedAt', value: String(NOW / 1000 - 3600) });
    expect(diagnosis.facts).toContainEqual({ label: 'diag.fact.deviceClock', value: `${NOW / 1000} (+3600 s)`, wrong: true });
  });

  it('with the URL and clock right, names the ticket: the app’s for agentConfig, the corp’s for config', () => {
    expect(diagnose({ step: 'agentConfig', errMsg: 'agentConfig:fail invalid signature' }, context()).causes.map((c) => c.cause)).toEqual([
      'diag.cause.wrongAgentTicket',
    ]);
    expect(diagnose({ step: 'config', errMsg: 'config:fail invalid signature' }, context()).causes.map((c) => c.cause)).toEqual([
      'diag.cause.wrongCorpTicket',
    ]);
  });

  it('reads 40013 as a corp ID that is not the signed-in corp', () => {
    expect(diagnose({ step: 'agentConfig', errMsg: 'agentConfig:fail 40013 invalid corpid' }, context()).code).toBe('invalid_corp');
  });
});

describe('diagnose: old clients and a missing bridge', () => {
  it('reads the WeCom version from the User-Agent; clients before 3.0.24 need config first', () => {
    expect(wecomVersionOf(UA)).toEqual([4, 1, 30]);
    expect(wecomVersionOf('Mozilla/5.0 Chrome/120')).toBeNull();
    expect(needsConfigFirst([3, 0, 23])).toBe(true);
    expect(needsConfigFirst([2, 9, 99])).toBe(true);
    expect(needsConfigFirst([3, 0, 24])).toBe(false);
    expect(needsConfigFirst([4, 1, 30])).toBe(false);
  });

  it('reports a client without agentConfig', () => {
    const diagnosis = diagnose({ step: 'agentConfig', errMsg: 'agentConfig:fail function not exist' }, context({ agentConfigOk: false }));
    expect(diagnosis.code).toBe('client_too_old');
    expect(words(diagnosis).join('\n')).toContain('3.0.24');
  });

  it('on a client before 3.0.24, a failed config says to upgrade', () => {
    const old = 'Mozilla/5.0 wxwork/3.0.16 MicroMessenger/7.0.1';
    const diagnosis = diagnose({ step: 'config', errMsg: 'config:fail' }, context({ userAgent: old, agentConfigOk: null }));
    expect(diagnosis.code).toBe('register_failed');
    expect(diagnosis.causes[0]).toEqual({ cause: 'diag.cause.oldClient', fix: 'diag.fix.upgrade', params: { version: '3.0.16' } });
  });

  it('without any bridge, says to open it in WeCom', () => {
    expect(diagnose({ step: 'bridge', errMsg: '' }, context({ entry: null, agentConfigOk: null })).code).toBe('not_in_wecom');
  });

  it('an unknown failure still reads as a sentence, WeCom’s words kept as a fact', () => {
    const diagnosis = diagnose({ step: 'getContext', errMsg: 'getContext:fail something new' }, context());
    expect(diagnosis.code).toBe('unknown');
    expect(diagnosis.facts).toContainEqual({ label: 'diag.fact.errMsg', value: 'getContext:fail something new' });
  });

  it('signs the URL without its # part', () => {
    expect(signableUrl('https://a.example/sidebar/?x=1#/y')).toBe('https://a.example/sidebar/?x=1');
    expect(signableUrl('https://a.example/sidebar/')).toBe('https://a.example/sidebar/');
  });
});

describe('the sidebar’s words', () => {
  it('has every sentence in both languages, with the same placeholders', () => {
    const zhKeys = Object.keys(SIDEBAR_MESSAGES['zh-CN']).sort();
    expect(Object.keys(SIDEBAR_MESSAGES.en).sort()).toEqual(zhKeys);
    const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
    for (const key of zhKeys) {
      const k = key as keyof (typeof SIDEBAR_MESSAGES)['zh-CN'];
      expect([key, placeholders(SIDEBAR_MESSAGES.en[k])]).toEqual([key, placeholders(SIDEBAR_MESSAGES['zh-CN'][k])]);
    }
  });

  it('every diagnosis names causes and fixes the catalogue has', () => {
    const failures: [Parameters<typeof diagnose>[0], Partial<DiagnoseContext>][] = [
      [{ step: 'getCurExternalContact', errMsg: 'getCurExternalContact:fail no permission' }, { agentConfigOk: false }],
      [{ step: 'getCurExternalContact', errMsg: 'getCurExternalContact:fail no permission' }, { entry: 'normal' }],
      [{ step: 'getCurExternalContact', errMsg: 'getCurExternalContact:fail no permission' }, {}],
      [{ step: 'getCurExternalContact', errMsg: 'getCurExternalContact:fail without context of external contact' }, {}],
      [
        { step: 'agentConfig', errMsg: 'agentConfig:fail invalid signature' },
        { signedUrl: 'http://x.example/', signedTimestamp: 1 },
      ],
      [{ step: 'agentConfig', errMsg: 'agentConfig:fail function not exist' }, {}],
      [{ step: 'config', errMsg: 'config:fail' }, {}],
      [{ step: 'agentConfig', errMsg: 'agentConfig:fail' }, {}],
      [{ step: 'bridge', errMsg: '' }, {}],
    ];
    for (const [failure, overrides] of failures) {
      const diagnosis = diagnose(failure, context(overrides));
      for (const t of [zh, en]) {
        const keys = [
          `diag.title.${diagnosis.code}`,
          ...diagnosis.causes.flatMap((c) => [c.cause, c.fix]),
          ...diagnosis.facts.map((f) => f.label),
        ];
        for (const key of keys) expect([key, t.has(key)]).toEqual([key, true]);
        for (const sentence of words(diagnosis, t)) expect(sentence).not.toMatch(/\{\w+\}/);
      }
    }
  });

  it('words the server’s hints, and a code it does not know as a general sentence', () => {
    const at = (iso: string) => iso.slice(0, 10);
    expect(hintText({ code: 'registered_not_checked_in', params: { eventName: '上海展', phase: 'ended' } }, zh, at)).toBe(
      '报名了“上海展”但没有签到：可以问问原因，邀请参加下一场',
    );
    expect(hintText({ code: 'mql_crossed', params: { score: 62, threshold: 60, crossedAt: '2026-12-06T00:00:00Z' } }, zh, at)).toContain(
      'MQL',
    );
    expect(hintText({ code: 'silent', params: { days: 40, lastInboundAt: null } }, en, at)).toBe(
      'No interaction for 40 days: send some material to wake them up',
    );
    expect(hintText({ code: 'something_new', params: {} }, zh, at)).toBe('有一条建议');
  });

  it('shows the identities the contact has, and groups tags in the order seen', () => {
    const contact = {
      identities: {
        officialAccount: { openid: 'o1', subscribed: true },
        miniProgram: { openid: 'm1' },
        externalUserId: 'wm1',
        unionid: null,
      },
    } as Pick<SidebarContact, 'identities'> as SidebarContact;
    expect(identityBadges(contact, zh)).toEqual(['关注公众号', '使用小程序', '企业微信']);
    expect(
      groupTags([
        { group: 'B', id: 1 },
        { group: 'A', id: 2 },
        { group: 'B', id: 3 },
      ]),
    ).toEqual([
      {
        group: 'B',
        tags: [
          { group: 'B', id: 1 },
          { group: 'B', id: 3 },
        ],
      },
      { group: 'A', tags: [{ group: 'A', id: 2 }] },
    ]);
  });

  it('reads the admin’s timeline, stage and error words', () => {
    expect(zh.t('timeline.tagAdded')).toBe('添加标签');
    expect(zh.t('stages.activated')).toBe('激活');
    expect(zh.t('interactionTypes.text')).toBe('发来消息');
    expect(zh.t('customer.kinds.wecom_contact', { text: 'A1' })).toBe('企业微信客户 A1');
    expect(zh.has('errors.unauthorized')).toBe(true);
  });
});
