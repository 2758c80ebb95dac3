import { sniffFileType } from '../../../server/modules/content/content-file-types';

const hex = (text: string) => Buffer.from(text.replace(/\s/g, ''), 'hex');

describe('sniffFileType: the first bytes decide', () => {
  it.each([
    ['JPEG', hex('ffd8ffe000104a464946'), 'image/jpeg'],
    ['PNG', hex('89504e470d0a1a0a0000000d'), 'image/png'],
    ['GIF89a', Buffer.from('GIF89a\x01\x00', 'latin1'), 'image/gif'],
    ['WebP', Buffer.concat([Buffer.from('RIFF'), hex('24000000'), Buffer.from('WEBPVP8 ')]), 'image/webp'],
    ['PDF', Buffer.from('%PDF-1.7\n'), 'application/pdf'],
    ['MP4 (isom)', hex('00000018 66747970 69736f6d 00000200'), 'video/mp4'],
  ])('%s', (_name, head, mime) => {
    expect(sniffFileType(head)?.mime).toBe(mime);
  });

  it.each([
    ['HTML', Buffer.from('<!doctype html><script>')],
    ['SVG (can carry script)', Buffer.from('<svg xmlns="http://www.w3.org/2000/svg">')],
    ['QuickTime', hex('00000014 66747970 71742020 00000000')],
    ['RIFF that is not WebP (WAV)', Buffer.concat([Buffer.from('RIFF'), hex('24000000'), Buffer.from('WAVEfmt ')])],
    ['too short', hex('ffd8')],
    ['empty', Buffer.alloc(0)],
  ])('refuses %s', (_name, head) => {
    expect(sniffFileType(head)).toBeNull();
  });
});
