import { displayIdentityOf } from '../../../server/modules/contacts/display-identity';
import { normalizeTypedPhone } from '../../../server/modules/contacts/contact-notes.service';
import { queryTermsOf, searchTermsOf } from '../../../server/modules/contacts/search-terms';

/** A search finds a contact when every one of its terms is among the contact's. */
const finds = (q: string, contact: Parameters<typeof searchTermsOf>[0]) => {
  const stored = new Set(searchTermsOf(contact));
  const wanted = queryTermsOf(q);
  return wanted.length > 0 && wanted.every((term) => stored.has(term));
};

describe('search pieces (search-terms.ts)', () => {
  const follower = {
    name: null,
    remark: '展会A 采购王总',
    phone: '+86 138-0013-8000',
    identities: [{ kind: 'oa_openid', value: 'o6_bmjrPTlm6_2sgVt7hMZOPfL2M' }],
  };

  it('finds a contact by part of its remark, its phone in any spelling, and the tail of its openid', () => {
    for (const q of ['王', '王总', '采购王', '展会a', '0013', '13800138000', '138 0013 8000', 'fL2M', 'opfl2m', 'OPFL2M'])
      expect([q, finds(q, follower)]).toEqual([q, true]);
  });

  it('does not find it by text it does not hold, nor by the part of an openid before its tail', () => {
    for (const q of ['王五', '0014', 'bmjrPT', 'zzz']) expect([q, finds(q, follower)]).toEqual([q, false]);
  });

  it('keeps single characters of names and remarks only, and no piece longer than three characters', () => {
    const terms = searchTermsOf({ name: '李雷', remark: null, phone: '13912345678', identities: [] });
    expect(terms).toEqual(expect.arrayContaining(['李', '雷', '李雷', '13', '139']));
    expect(terms).not.toContain('1');
    expect(terms.every((term) => [...term].length <= 3)).toBe(true);
  });

  it('asks for the text itself up to two characters, and for its pieces of three beyond', () => {
    expect(queryTermsOf(' 李 ')).toEqual(['李']);
    expect(queryTermsOf('王总')).toEqual(['王总']);
    expect(queryTermsOf('采购王总')).toEqual(['采购王', '购王总']);
    expect(queryTermsOf('+86 138')).toEqual(['138']);
    expect(queryTermsOf('  ')).toEqual([]);
  });
});

describe('display identity (display-identity.ts)', () => {
  const base = { id: 7, name: null, remark: null, firstSource: '渠道/展会A', createdAt: new Date('2026-11-02T03:00:00.000Z') };
  const openid = { kind: 'oa_openid', value: 'o6_bmjrPTlm6_2sgVt7hMZOPfL2M', createdAt: new Date('2026-11-01T00:00:00.000Z') };

  it('prefers the remark, then the name, then the openid tail, then the id, and is never empty', () => {
    expect(displayIdentityOf({ ...base, remark: ' 王总 ', name: 'Wang', identities: [openid] })).toMatchObject({
      kind: 'remark',
      text: '王总',
    });
    expect(displayIdentityOf({ ...base, name: 'Wang', remark: '  ', identities: [openid] })).toMatchObject({ kind: 'name', text: 'Wang' });
    expect(displayIdentityOf({ ...base, identities: [openid] })).toEqual({
      kind: 'oa_follower',
      text: 'fL2M',
      firstSource: '渠道/展会A',
      followedAt: '2026-11-01T00:00:00.000Z',
    });
    expect(displayIdentityOf({ ...base, identities: [] })).toMatchObject({
      kind: 'contact',
      text: '7',
      followedAt: '2026-11-02T03:00:00.000Z',
    });
  });
});

describe('a phone typed by an operator (normalizeTypedPhone)', () => {
  it('takes a mainland mobile with or without +86, or an E.164 number, and refuses the rest', () => {
    expect(normalizeTypedPhone('138 0013 8000')).toBe('13800138000');
    expect(normalizeTypedPhone('+86-138-0013-8000')).toBe('13800138000');
    expect(normalizeTypedPhone('+44 20 7183 8750')).toBe('+442071838750');
    for (const bad of ['12345', '1380013800', '23800138000', '+0123456789', '+1234567890123456', 'abc'])
      expect(normalizeTypedPhone(bad)).toBeNull();
  });
});
