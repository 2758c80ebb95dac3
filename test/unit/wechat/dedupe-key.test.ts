import { compactKey, digestFields } from '../../../server/wechat/dedupe-key';

describe('compactKey', () => {
  it('keeps keys of up to 191 characters unchanged', () => {
    expect(compactKey('oa:wx1:msg:1')).toBe('oa:wx1:msg:1');
    const limit = 'k'.repeat(191);
    expect(compactKey(limit)).toBe(limit);
  });

  it('shortens longer keys to a 120-character prefix, # and the sha256 hex', () => {
    const long = `${'a'.repeat(150)}${'b'.repeat(100)}`;
    const compacted = compactKey(long);
    expect(compacted).toHaveLength(120 + 1 + 64);
    expect(compacted.startsWith(`${'a'.repeat(120)}#`)).toBe(true);
    expect(compacted).toMatch(/#[0-9a-f]{64}$/);
  });

  it('keeps long keys that share a prefix apart', () => {
    const prefix = 'x'.repeat(200);
    expect(compactKey(`${prefix}1`)).not.toBe(compactKey(`${prefix}2`));
    expect(compactKey(`${prefix}1`)).toBe(compactKey(`${prefix}1`));
  });
});

describe('digestFields', () => {
  it('is stable for the same fields and differs for different fields', () => {
    expect(digestFields({ A: '1' })).toBe(digestFields({ A: '1' }));
    expect(digestFields({ A: '1' })).not.toBe(digestFields({ A: '2' }));
    expect(digestFields({ A: '1' })).toMatch(/^[0-9a-f]{16}$/);
  });
});
