import { translatorOf } from '../../support/translator';
import enMessages from '../../../web/shared/i18n/en';
import zhMessages from '../../../web/shared/i18n/zh-CN';
import { describeFailedWorkItem, errcodeSentence } from '../../../web/admin/failed-work';
import { identityKindLabel, scoreReasonText } from '../../../web/admin/labels';
import type { FailedWorkItem } from '../../../web/shared/types';

/** The page's own catalogue, looked up by dotted key as vue-i18n does, `{name}` filled in. */
const zh = translatorOf(zhMessages);
const en = translatorOf(enMessages);

const follower = { kind: 'oa_follower' as const, text: 'A1b2', firstSource: null, followedAt: '2026-01-01T00:00:00.000Z' };
const item = (patch: Partial<FailedWorkItem>): FailedWorkItem => ({
  id: 1,
  kind: 'oa_tag_sync',
  dedupeKey: 'oa_tag:add:35',
  attempts: 5,
  lastError: 'tags/members/batchtagging failed with errcode 45159 (invalid tag id): invalid tagid',
  errcode: { code: 45159, meaning: 'invalid tag id' },
  updatedAt: '2026-01-01T00:00:00.000Z',
  ...patch,
});

describe('failed work in words', () => {
  it('says what a tag sync was for and what the platform refused, without kind codes, keys or English', () => {
    const view = describeFailedWorkItem(
      item({ subject: { op: 'add', tag: '购买意向/需要发票', contact: follower, count: null } }),
      false,
      zh,
    );
    expect(view).toEqual({
      what: '同步标签到公众号：为客户 公众号粉丝 A1b2 添加标签 购买意向/需要发票',
      problem: '公众号里没有这个标签（标签 ID 无效）',
    });
    expect(
      describeFailedWorkItem(item({ subject: { op: 'add', tag: '购买意向/需要发票', contact: follower, count: null } }), false, en).what,
    ).toBe('Sync tags to the Official Account: add tag 购买意向/需要发票 to a customer OA follower A1b2');
    expect(
      describeFailedWorkItem(item({ kind: 'wecom_tag_sync', subject: { op: 'remove', tag: null, contact: null, count: null } }), false, zh)
        .what,
    ).toBe('同步标签到企业微信：为客户 移除标签 （已删除的标签）');
    expect(
      describeFailedWorkItem(
        item({ kind: 'oa_tag_catalog_sync', subject: { op: 'delete', tag: null, contact: null, count: 2 } }),
        false,
        zh,
      ).what,
    ).toBe('同步标签目录到公众号：删除 2 个标签');
    expect(describeFailedWorkItem(item({ kind: 'text', errcode: null }), true, zh)).toEqual({ what: '处理互动：发来消息', problem: null });
  });

  it('maps errcodes to sentences, and an unknown one to a sentence with its number', () => {
    expect(errcodeSentence(45158, zh)).toBe('标签名超过 30 字节（约 10 个汉字）');
    expect(errcodeSentence(-1, zh)).toBe('平台繁忙，稍后会自动重试');
    expect(errcodeSentence(99999, zh)).toBe('平台错误码 99999');
    for (const key of Object.keys(zhMessages.labels.errcodes)) expect(zh.t(`labels.errcodes.${key}`)).not.toMatch(/invalid|errcode/i);
  });
});

describe('contact page codes in words', () => {
  it('names identity kinds as people know them', () => {
    expect(identityKindLabel('oa_openid', zh)).toBe('公众号 OpenID');
    expect(identityKindLabel('external_userid', zh)).toBe('企业微信外部联系人');
    expect(identityKindLabel('unionid', zh)).toBe('UnionID');
    expect(identityKindLabel('mp_openid', en)).toBe('Mini program OpenID');
    expect(identityKindLabel('future_kind', zh)).toBe('future_kind');
  });

  it("reads a rule's score reason as the rule and the interaction's type in words, other reasons as written", () => {
    expect(scoreReasonText('发消息互动 (text)', zh)).toBe('发消息互动 · 发来消息');
    expect(scoreReasonText('关注有礼 (subscribe)', zh)).toBe('关注有礼 · 关注');
    expect(scoreReasonText('发消息互动 (text)', en)).toMatch(/^发消息互动 · [A-Z]/);
    expect(scoreReasonText('发消息互动 (text)', zh)).not.toContain('text');
    expect(scoreReasonText('手动调整', zh)).toBe('手动调整');
  });
});
