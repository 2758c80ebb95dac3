import { translatorOf } from '../../support/translator';
import en from '../../../web/shared/i18n/en';
import zhCN from '../../../web/shared/i18n/zh-CN';
import { describeTimelineItem } from '../../../web/shared/timeline';
import type { TimelineActor } from '../../../web/shared/types';

/** The page's own catalogue, looked up by dotted key as vue-i18n does, `{name}` filled in. */
const zh = translatorOf(zhCN);

describe('timeline entries as the contact page shows them', () => {
  it("puts the customer's words first and folds every other field behind 详情, with readable field names", () => {
    const entry = describeTimelineItem(
      {
        kind: 'interaction',
        direction: 'in',
        id: 7,
        type: 'text',
        channel: 'oa',
        at: '2026-11-20T08:00:00.000Z',
        detail: { openid: 'o_1', msgId: '123', content: '你好' },
      },
      zh,
    );
    expect(entry).toMatchObject({
      key: 'interaction:7',
      type: 'text',
      icon: 'oa',
      label: '发来消息',
      channel: '公众号',
      words: '你好',
      actor: null,
    });
    expect(entry.facts).toEqual([
      { label: 'OpenID', value: 'o_1' },
      { label: '消息 ID', value: '123' },
    ]);
    const click = describeTimelineItem(
      {
        kind: 'interaction',
        direction: 'in',
        id: 8,
        type: 'click',
        channel: 'oa',
        at: '2026-11-20T08:00:00.000Z',
        detail: { openid: 'o_1', menuKey: 'news' },
      },
      zh,
    );
    expect(click.words).toBe('菜单：news');
    const subscribe = describeTimelineItem(
      {
        kind: 'interaction',
        direction: 'in',
        id: 9,
        type: 'subscribe',
        channel: 'oa',
        at: '2026-11-20T08:00:00.000Z',
        detail: { openid: 'o_1', scene: null, ticket: null },
      },
      zh,
    );
    // No scene: no words, and the empty fields are not facts either.
    expect(subscribe).toMatchObject({ label: '关注', words: null, facts: [{ label: 'OpenID', value: 'o_1' }] });
  });

  it("shows a business card's view with who forwarded it, the share chain in order", () => {
    const entry = describeTimelineItem(
      {
        kind: 'interaction',
        direction: 'in',
        id: 9,
        type: 'card_view',
        channel: 'mp',
        at: '2026-12-07T08:00:00.000Z',
        detail: {
          operatorId: 3,
          repName: '陈晓',
          sharedBy: { contactId: 12, name: '王五' },
          chain: [
            { contactId: 11, name: '张三' },
            { contactId: 12, name: '王五' },
          ],
          seconds: 42,
        },
      },
      zh,
    );
    // The sharer, the chain and the time are in the words (card-ui's cardWords), not repeated behind 详情.
    expect(entry).toMatchObject({ label: '查看名片', words: '陈晓 的名片 · 经 张三 → 王五 转发 · 停留 42 秒' });
    expect(entry.facts).toEqual([{ label: '销售编号', value: '3' }]);
  });

  it('never shows a code: an unknown type or channel reads as a generic label', () => {
    const entry = describeTimelineItem(
      { kind: 'interaction', direction: 'in', id: 1, type: 'brand_new_event', channel: 'fax', at: '2026-11-20T08:00:00.000Z', detail: {} },
      zh,
    );
    expect(entry).toMatchObject({ label: '其他互动', channel: '其他渠道' });
    expect(
      describeTimelineItem(
        { kind: 'interaction', direction: 'in', id: 1, type: 'brand_new_event', channel: 'fax', at: '', detail: {} },
        translatorOf(en),
      ).label,
    ).toBe('Other interaction');
  });

  it('words the business card: whose card, the share chain it came through (经 A → B 转发), the time spent, a forward, an action', () => {
    const card = (type: string, detail: Record<string, unknown>, translator = zh) =>
      describeTimelineItem({ kind: 'interaction', direction: 'in', id: 3, type, channel: 'mp', at: '', detail }, translator);
    const chain = [
      { contactId: 11, name: '张三' },
      { contactId: 12, name: '李四' },
    ];
    const view = card('card_view', { operatorId: 5, repName: '王五', sharedBy: chain[1], chain, seconds: 65 });
    expect(view).toMatchObject({ type: 'card_view', label: '查看名片', words: '王五 的名片 · 经 张三 → 李四 转发 · 停留 1 分 5 秒' });
    // The chain is in the words, not repeated as JSON behind 详情; the rep's id stays a fact.
    expect(view.facts).toEqual([{ label: '销售编号', value: '5' }]);
    expect(card('card_view', { operatorId: 5, repName: '王五', sharedBy: null, chain: [] }).words).toBe('王五 的名片 · 直接打开');
    // A forwarder without a name is named as the contacts list names them; a lone sharer is the chain.
    expect(card('card_view', { operatorId: 5, repName: '王五', sharedBy: { contactId: 12, name: null }, chain: [] }).words).toBe(
      '王五 的名片 · 经 客户 #12 转发',
    );
    expect(card('card_view', { operatorId: 5, repName: 'Wang', sharedBy: chain[1], chain, seconds: 8 }, translatorOf(en)).words).toBe(
      "Wang's business card · forwarded via 张三 → 李四 · stayed 8 s",
    );
    expect(card('card_share', { operatorId: 5, repName: '王五', viewer: { contactId: 13, name: '赵六' } })).toMatchObject({
      label: '转发名片',
      words: '赵六 通过 TA 的转发查看了 王五 的名片',
    });
    expect(card('card_action', { operatorId: 5, repName: '王五', action: 'add_wecom' })).toMatchObject({
      label: '通过名片联系销售',
      words: '添加企业微信（王五 的名片）',
    });
    expect(card('card_action', { operatorId: 5, repName: '王五', action: 'leave_phone' }, translatorOf(en)).words).toBe(
      "Left a phone number (王五's business card)",
    );
  });

  it('names who changed a tag or the score: the operator, 规则 <name>, the platform, 系统', () => {
    const change = (actor: TimelineActor) =>
      describeTimelineItem(
        {
          kind: 'tag_change',
          id: 1,
          at: '',
          op: 'remove',
          tag: { id: 3, group: '兴趣', name: '咖啡' },
          actor,
          cause: 'manual',
          interactionId: null,
        },
        zh,
      );
    expect(change({ kind: 'operator', id: 1, name: '李四' })).toMatchObject({
      label: '移除标签',
      words: '兴趣/咖啡',
      actor: '李四',
      channel: '手动',
      icon: 'tag',
    });
    expect(change({ kind: 'rule', id: 2, name: '关注' }).actor).toBe('规则 关注');
    expect(change({ kind: 'platform', name: 'wecom' }).actor).toBe('企业微信');
    expect(change({ kind: 'system' }).actor).toBe('系统');
    const score = describeTimelineItem(
      {
        kind: 'score',
        id: 4,
        at: '',
        points: 5,
        reason: '扫码关注渠道标签 (subscribe)',
        actor: { kind: 'rule', id: 1, name: '扫码关注渠道标签' },
        interactionId: 9,
      },
      zh,
    );
    expect(score).toMatchObject({ label: '积分变动', words: '+5 分', actor: '规则 扫码关注渠道标签', icon: 'score' });
    expect(score.facts.map((f) => f.label)).toEqual(['原因', '互动编号']);
  });
});
