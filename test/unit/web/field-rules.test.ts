import { translateFieldErrors, type Translator } from '../../../web/shared/errors';
import { contactFilterProblemsOf, normalizeUsername, tagNameProblemsOf, usernameProblemOf } from '../../../web/shared/field-rules';

describe('field rules shared by the server and the page', () => {
  it('takes usernames in any script, in one NFKC spelling, counted in characters', () => {
    expect(usernameProblemOf(normalizeUsername('张三'))).toBeNull();
    expect(normalizeUsername(' ｌｉｓｉ ')).toBe('lisi');
    expect(usernameProblemOf('li.si@corp-1_a')).toBeNull();
    expect(usernameProblemOf('张 三')).toEqual({ code: 'username_chars' });
    expect(usernameProblemOf('zhang<script>')).toEqual({ code: 'username_chars' });
    // 𠀀 is two UTF-16 units but one character: 64 of them fit.
    expect(usernameProblemOf('𠀀'.repeat(64))).toBeNull();
    expect(usernameProblemOf('𠀀'.repeat(65))).toEqual({ code: 'username_too_long', max: 64 });
    expect(usernameProblemOf('')).toEqual({ code: 'username_empty' });
  });

  it('measures a tag name the way each platform it syncs to does', () => {
    const both = { oa: true, wecom: true };
    expect(tagNameProblemsOf('一二三四五六七八九十', both)).toEqual([]);
    expect(tagNameProblemsOf('一二三四五六七八九十一', both)).toEqual([{ code: 'tag_name_oa_bytes', platform: 'oa', max: 30, actual: 33 }]);
    expect(tagNameProblemsOf('一二三四五六七八九十一', { oa: false, wecom: true })).toEqual([]);
    expect(tagNameProblemsOf('a'.repeat(31), both)).toEqual([
      { code: 'tag_name_oa_bytes', platform: 'oa', max: 30, actual: 31 },
      { code: 'tag_name_wecom_chars', platform: 'wecom', max: 30, actual: 31 },
    ]);
    expect(tagNameProblemsOf('a'.repeat(65), { oa: false, wecom: false })).toEqual([{ code: 'tag_name_too_long', max: 64, actual: 65 }]);
    expect(tagNameProblemsOf('  ', both)).toEqual([{ code: 'tag_name_empty' }]);
  });

  it('refuses a lowest score above the highest and a search longer than 128 characters', () => {
    expect(contactFilterProblemsOf({ minScore: 5, maxScore: 5 })).toEqual([]);
    expect(contactFilterProblemsOf({ minScore: 6, maxScore: 5 })).toEqual([{ path: 'maxScore', code: 'score_range', min: 6, max: 5 }]);
    expect(contactFilterProblemsOf({ q: '长'.repeat(128) })).toEqual([]);
    expect(contactFilterProblemsOf({ q: '长'.repeat(129), minScore: null })).toEqual([
      { path: 'q', code: 'search_too_long', max: 128, actual: 129 },
    ]);
  });
});

describe('field issues in words', () => {
  const catalogue: Record<string, string> = {
    'forms.issues.tag_name_oa_bytes': 'oa {max}/{actual}',
    'fieldErrors.name': 'name sentence',
    'forms.rules.too_big_string': 'at most {maximum} characters',
    'forms.rules.too_big': 'too big',
    'errors.unknown': 'unknown',
    'forms.rules.custom': 'general',
  };
  const tr: Translator = {
    has: (key) => key in catalogue,
    t: (key, params) => (catalogue[key] ?? key).replace(/\{(\w+)\}/g, (_, name: string) => String(params?.[name])),
  };
  const fields = (details: unknown[]) => translateFieldErrors({ code: 'bad_request', message: '', details }, tr);

  it('prefers the named rule, then the field sentence, then the generic rule by origin, never the API text', () => {
    expect(fields([{ path: 'name', code: 'tag_name_oa_bytes', params: { max: 30, actual: 33 } }])).toEqual({ name: 'oa 30/33' });
    expect(fields([{ path: 'name', code: 'too_big', params: { maximum: 64, origin: 'string' } }])).toEqual({ name: 'name sentence' });
    expect(fields([{ path: 'q', code: 'too_big', params: { maximum: 128, origin: 'string' } }])).toEqual({ q: 'at most 128 characters' });
    expect(fields([{ path: 'tags', code: 'too_big', params: { maximum: 5, origin: 'array' } }])).toEqual({ tags: 'too big' });
    expect(fields([{ path: 'x', code: 'odd', message: 'API says' }])).toEqual({ x: 'general' });
    expect(fields([{ path: 'filter.maxScore', code: 'odd', message: 'nested' }])).toEqual({
      'filter.maxScore': 'general',
      filter: 'general',
    });
  });
});
