import {
  ERROR_CODES,
  FIELD_RULE_CODES,
  SANDBOX_ERROR_CODES,
  TAG_SYNC_FAILURE_CODES,
  ZOD_ISSUE_CODES,
} from '../../../server/http/error-codes';
import { readSyncFailure, syncFailureMessages } from '../../../server/modules/tag-sync/sync-failure';
import { WECHAT_ERRCODES } from '../../../server/wechat/errcode';
import { translateError, translateFieldIssue, type Translator } from '../../../web/shared/errors';
import en from '../../../web/shared/i18n/en';
import zhCN from '../../../web/shared/i18n/zh-CN';

/** A catalogue as the page's translator sees it: dotted keys to strings. */
function translatorOf(messages: object): Translator {
  const lookup = (key: string): string | undefined => {
    let node: unknown = messages;
    for (const part of key.split('.')) {
      if (typeof node !== 'object' || node === null || !(part in node)) return undefined;
      node = (node as Record<string, unknown>)[part];
    }
    return typeof node === 'string' ? node : undefined;
  };
  return {
    has: (key) => lookup(key) !== undefined,
    t: (key, params) =>
      (lookup(key) ?? `!${key}`).replace(/\{(\w+)\}/g, (whole, name: string) => {
        const value = params?.[name];
        return typeof value === 'string' || typeof value === 'number' ? String(value) : whole;
      }),
  };
}

const locales = [
  ['zh-CN', translatorOf(zhCN)],
  ['en', translatorOf(en)],
] as const;

describe.each(locales)('every code the server can emit has a %s sentence', (_, tr) => {
  it.each(ERROR_CODES)('errors.%s', (code) => expect(tr.has(`errors.${code}`)).toBe(true));
  it.each(SANDBOX_ERROR_CODES)('errors.%s (sandbox)', (code) => expect(tr.has(`errors.${code}`)).toBe(true));
  it.each(TAG_SYNC_FAILURE_CODES)('errors.sync.%s', (code) => expect(tr.has(`errors.sync.${code}`)).toBe(true));
  it.each(FIELD_RULE_CODES)('forms.issues.%s', (code) => expect(tr.has(`forms.issues.${code}`)).toBe(true));
  it.each(ZOD_ISSUE_CODES)('forms.rules.%s (zod, for any origin)', (code) => {
    const covered =
      tr.has(`forms.rules.${code}`) || ['string', 'number', 'array'].every((origin) => tr.has(`forms.rules.${code}_${origin}`));
    expect(covered).toBe(true);
  });
  it('errcode sentences are for errcodes the platforms define', () => {
    const sentences = Object.keys(zhCN.labels.errcodes);
    const codeOf = (key: string) => (key.startsWith('m') ? -Number(key.slice(1)) : Number(key.slice(1)));
    for (const key of sentences) expect([key, WECHAT_ERRCODES[codeOf(key)] !== undefined]).toEqual([key, true]);
    expect(sentences.length).toBeGreaterThan(10);
  });
});

describe('the page never shows the API’s English', () => {
  const tr = translatorOf(zhCN);
  it('an unknown code gets a general sentence, an http status its own', () => {
    expect(translateError({ code: 'brand_new_code', message: 'Server words' }, tr)).toBe(zhCN.errors.unknown);
    expect(translateError({ code: 'http_429', message: 'Too Many Requests' }, tr)).toBe(zhCN.errors.http_429);
  });
  it('a zod refusal reads as its rule with the numbers, an unnamed rule as a general sentence', () => {
    const tooSmall = { path: 'name', code: 'too_small', message: 'Too small: expected string to have >=1 characters', params: {} };
    expect(translateFieldIssue({ ...tooSmall, path: 'x', params: { minimum: 1, origin: 'string' } }, tr)).toBe('至少 1 个字符');
    expect(translateFieldIssue({ path: 'x', code: 'mystery', message: 'Mystery failure', params: {} }, tr)).toBe(zhCN.forms.rules.custom);
  });
  it('a sandbox refusal reads as its code', () => {
    expect(translateError({ code: 'sandbox_no_follower', message: 'no follower yet: run subscribe first or pass openid' }, tr)).toBe(
      zhCN.errors.sandbox_no_follower,
    );
  });
});

describe('tag sync failures are read back as codes', () => {
  it('reads each limit message it writes, with its numbers', () => {
    expect(readSyncFailure(syncFailureMessages.tagNameOaBytes('一二三四五六七八九十一', 33, 30), null)).toEqual({
      code: 'tag_name_oa_bytes',
      params: { max: 30, bytes: 33 },
    });
    expect(readSyncFailure('Tag name "x" is longer than 30 bytes, the Official Account limit', null)).toEqual({
      code: 'tag_name_oa_bytes',
      params: { max: 30 },
    });
    expect(readSyncFailure(syncFailureMessages.oaTagsPerFollower(20), null)).toEqual({ code: 'oa_tags_per_follower', params: { max: 20 } });
    expect(readSyncFailure(syncFailureMessages.oaTagsPerAccount(100), null)).toEqual({ code: 'oa_tags_per_account', params: { max: 100 } });
    expect(readSyncFailure(syncFailureMessages.noFollowUser(), null)).toEqual({ code: 'no_follow_user', params: {} });
    expect(readSyncFailure('tags/members/batchtagging failed with errcode 45159 (invalid tag id)', 45159)).toEqual({
      code: 'platform_errcode',
      params: { errcode: 45159 },
    });
    expect(readSyncFailure('connect ECONNREFUSED 127.0.0.1:1', null)).toEqual({ code: 'failed', params: {} });
  });
});
