import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parse } from 'csv-parse';
import { cleanRow, CsvDecoder, CsvFileError, isUtf8Prefix, mapHeader, normalizeLeadPhone } from '../../../server/modules/imports/lead-csv';
import { encodeGbk } from '../../support/gbk';

/** Decodes chunks as they would arrive from a socket. */
async function decode(chunks: Buffer[]): Promise<{ text: string; encoding: string | null }> {
  const decoder = new CsvDecoder();
  let text = '';
  await pipeline(Readable.from(chunks), decoder, async (source: AsyncIterable<Buffer>) => {
    for await (const chunk of source) text += chunk.toString('utf8');
  });
  return { text, encoding: decoder.encoding };
}

describe('CsvDecoder', () => {
  it('takes a UTF-8 BOM as UTF-8 and drops it, even split across chunks', async () => {
    const bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('手机,姓名\n')]);
    expect(await decode([bytes.subarray(0, 2), bytes.subarray(2)])).toEqual({ text: '手机,姓名\n', encoding: 'utf-8-bom' });
  });

  it('reads GBK as Excel in China saves it', async () => {
    expect(await decode([encodeGbk('手机,姓名\n13812345678,张三\n')])).toEqual({
      text: '手机,姓名\n13812345678,张三\n',
      encoding: 'gb18030',
    });
  });

  it('decides on the first non-ASCII byte, and keeps a character cut between chunks whole', async () => {
    const utf8 = Buffer.from('phone,name\n13812345678,张三\n');
    const cut = utf8.indexOf(Buffer.from('张')) + 1;
    expect(await decode([utf8.subarray(0, cut), utf8.subarray(cut)])).toEqual({ text: utf8.toString(), encoding: 'utf-8' });
    const gbk = encodeGbk('phone,name\n13812345678,张三\n');
    const gbkCut = gbk.length - 3;
    expect(await decode([gbk.subarray(0, gbkCut), gbk.subarray(gbkCut)])).toEqual({
      text: 'phone,name\n13812345678,张三\n',
      encoding: 'gb18030',
    });
  });

  it('fails a UTF-8 file that turns invalid later with bad_encoding, never mojibake', async () => {
    await expect(decode([Buffer.from('phone,name\n1,张三\n'), encodeGbk('2,李四\n')])).rejects.toMatchObject({ code: 'bad_encoding' });
  });

  it('knows GBK bytes are not UTF-8', () => {
    expect(isUtf8Prefix(encodeGbk('上海工业展'))).toBe(false);
    expect(isUtf8Prefix(Buffer.from('上海工业展').subarray(0, 4))).toBe(true);
  });
});

describe('normalizeLeadPhone', () => {
  it.each([
    ['13812345678', '+8613812345678'],
    ['138 1234 5678', '+8613812345678'],
    ['138-1234-5678', '+8613812345678'],
    ['+86 138 1234 5678', '+8613812345678'],
    ['+86-13812345678', '+8613812345678'],
    ['008613812345678', '+8613812345678'],
    ['8613812345678', '+8613812345678'],
    ['(+86)13812345678', '+8613812345678'],
  ])('%s → %s', (typed, e164) => {
    expect(normalizeLeadPhone(typed)).toEqual({ ok: true, phone: e164 });
  });

  it.each([
    ['', 'phone_missing'],
    ['  ', 'phone_missing'],
    ['1.38123E+10', 'phone_scientific'],
    ['12345', 'phone_invalid'],
    ['12812345678', 'phone_invalid'],
    ['021-12345678', 'phone_invalid'],
    ['+14155552671', 'phone_invalid'],
    ['138123456789', 'phone_invalid'],
  ])('%j is refused: %s', (typed, code) => {
    expect(normalizeLeadPhone(typed)).toEqual({ ok: false, code });
  });
});

describe('mapHeader and cleanRow', () => {
  it('knows Chinese and English header names, with marks and spaces', () => {
    const header = mapHeader(['\uFEFF姓名', '手机号（必填）', 'Company', ' Job Title ', 'E-mail', '备注']);
    expect(header.columns).toEqual({ name: 0, phone: 1, company: 2, title: 3, email: 4 });
    expect(header.ignored).toEqual(['备注']);
  });

  it('refuses a header without a phone column', () => {
    expect(() => mapHeader(['姓名', '公司'])).toThrow(CsvFileError);
  });

  it('cleans a row, and refuses a bad e-mail or a value too long', () => {
    const { columns } = mapHeader(['手机', '姓名', '邮箱', '公司']);
    expect(cleanRow([' 13812345678 ', ' 张三 ', '', ''], columns)).toEqual({ ok: true, values: { phone: '+8613812345678', name: '张三' } });
    expect(cleanRow(['13812345678', '张三', 'zhang@', ''], columns)).toMatchObject({ ok: false, code: 'email_invalid' });
    expect(cleanRow(['13812345678', '张三', '', '公'.repeat(129)], columns)).toMatchObject({ ok: false, code: 'too_long' });
    expect(cleanRow(['13812345678'], columns)).toEqual({ ok: true, values: { phone: '+8613812345678' } });
  });

  it('surfaces a header error thrown inside a pipeline as itself', async () => {
    const run = pipeline(
      Readable.from([Buffer.from('姓名,公司\n张三,某公司\n')]),
      new CsvDecoder(),
      parse(),
      async (records: AsyncIterable<string[]>) => {
        for await (const record of records) mapHeader(record);
      },
    );
    await expect(run).rejects.toBeInstanceOf(CsvFileError);
  });
});
