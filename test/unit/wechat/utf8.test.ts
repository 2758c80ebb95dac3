import { decodeUtf8Replacing } from '../../../server/wechat/utf8';

describe('decodeUtf8Replacing', () => {
  it('decodes valid UTF-8 unchanged and unflagged, a BOM included', () => {
    expect(decodeUtf8Replacing(Buffer.from('营业时间 abc', 'utf8'))).toEqual({ text: '营业时间 abc', invalidUtf8: false });
    expect(decodeUtf8Replacing(Buffer.from('\uFEFF<xml/>', 'utf8'))).toEqual({ text: '\uFEFF<xml/>', invalidUtf8: false });
    expect(decodeUtf8Replacing(Buffer.alloc(0))).toEqual({ text: '', invalidUtf8: false });
  });

  it.each([
    ['a lone continuation byte', [0x61, 0x80, 0x62], 'a\uFFFDb'],
    ['a truncated 3-byte sequence at the end', [0x61, 0xe8, 0x90], 'a\uFFFD'],
    ['an overlong encoding of /', [0xc0, 0xaf], '\uFFFD\uFFFD'],
    ['a UTF-16 surrogate encoded as UTF-8', [0xed, 0xa0, 0x80], '\uFFFD\uFFFD\uFFFD'],
    ['GBK bytes (中 is 0xD6D0)', [0xd6, 0xd0], '\uFFFD\uFFFD'],
  ])('replaces %s with U+FFFD and flags it', (_label, bytes, text) => {
    expect(decodeUtf8Replacing(Buffer.from(bytes))).toEqual({ text, invalidUtf8: true });
  });

  it('accepts a Uint8Array that is a view into a larger buffer', () => {
    const whole = Buffer.from([0x78, 0x61, 0x80, 0x79]);
    expect(decodeUtf8Replacing(new Uint8Array(whole.buffer, whole.byteOffset + 1, 2))).toEqual({ text: 'a\uFFFD', invalidUtf8: true });
  });
});
