import { Transform, type TransformCallback } from 'node:stream';
import { TextDecoder } from 'node:util';

/**
 * The pure half of a lead import: how the file's bytes become text, which column is which, and
 * what a clean row is. No database here; imports.service.ts stages what this returns.
 */

/** How a file was decoded. GB18030 is a superset of GBK (and of GB2312): one decoder reads all three. */
export type CsvEncoding = 'utf-8' | 'utf-8-bom' | 'gb18030';

/**
 * Decodes an uploaded CSV to text as it streams, UTF-8 or GBK without being told which. Excel in
 * China saves "CSV (逗号分隔)" in the system code page, GBK (code page 936); "CSV UTF-8" starts
 * with a byte-order mark; WPS and scripts write UTF-8 without one. So:
 * 1. a UTF-8 BOM (EF BB BF) → UTF-8, BOM dropped;
 * 2. else the decision waits for the first byte ≥ 0x80 (ASCII reads the same in both, and a file
 *    whose first rows are ASCII, `phone,name`, decides on its first Chinese name); the chunk
 *    holding it is decoded as strict UTF-8 (`fatal: true`, a sequence cut at the chunk's end
 *    allowed): valid → UTF-8, invalid → GB18030. GBK text is almost never valid UTF-8: its lead
 *    bytes 0x81–0xFE are followed by bytes 0x40–0xFE, where UTF-8 needs 0x80–0xBF continuations
 *    after a lead byte of the right kind, so a few Chinese characters settle it;
 * 3. after deciding, a UTF-8 file that turns invalid later is an error (`bad_encoding`), never
 *    silently mojibake. Node's TextDecoder (full ICU, the official builds) decodes GB18030, so
 *    no iconv package is needed.
 * @link https://encoding.spec.whatwg.org/#gb18030
 */
export class CsvDecoder extends Transform {
  private decoder: TextDecoder | null = null;
  private started = false;
  private pending: Buffer = Buffer.alloc(0);
  encoding: CsvEncoding | null = null;
  /** Why decoding stopped: pipeline may report the abort it caused upstream instead. */
  failure: CsvFileError | null = null;

  constructor() {
    super({ readableObjectMode: false, decodeStrings: true });
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    try {
      this.push(this.decode(chunk, false));
      done();
    } catch (error) {
      done(error as Error);
    }
  }

  override _flush(done: TransformCallback): void {
    try {
      this.push(this.decode(Buffer.alloc(0), true));
      done();
    } catch (error) {
      done(error as Error);
    }
  }

  private decode(chunk: Buffer, last: boolean): string {
    let bytes: Buffer = chunk;
    if (!this.started) {
      // The BOM may arrive split across chunks: wait for three bytes.
      this.pending = Buffer.concat([this.pending, bytes]);
      if (this.pending.length < 3 && !last) return '';
      this.started = true;
      bytes = this.pending;
      this.pending = Buffer.alloc(0);
      if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) {
        this.choose('utf-8-bom');
        bytes = bytes.subarray(3);
      }
    }
    let decoder = this.decoder;
    if (decoder === null) {
      if (bytes.every((b) => b < 0x80)) return bytes.toString('latin1');
      decoder = this.choose(isUtf8Prefix(bytes) ? 'utf-8' : 'gb18030');
    }
    try {
      return decoder.decode(bytes, { stream: !last });
    } catch {
      this.failure = new CsvFileError('bad_encoding', '文件编码无法识别：请另存为 UTF-8 或 GBK 编码的 CSV');
      throw this.failure;
    }
  }

  private choose(encoding: CsvEncoding): TextDecoder {
    this.encoding = encoding;
    this.decoder = new TextDecoder(encoding === 'gb18030' ? 'gb18030' : 'utf-8', { fatal: true, ignoreBOM: true });
    return this.decoder;
  }
}

/** Whether the bytes are valid UTF-8, a multi-byte sequence cut off at the end allowed. */
export function isUtf8Prefix(bytes: Uint8Array): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes, { stream: true });
    return true;
  } catch {
    return false;
  }
}

/** A file that cannot be imported at all (as opposed to a bad row): the route answers 400 with the code. */
export class CsvFileError extends Error {
  constructor(
    readonly code: 'bad_encoding' | 'no_phone_column' | 'empty_file' | 'bad_csv',
    message: string,
  ) {
    super(message);
  }
}

/** The fields a lead row can carry; identities besides the phone are matched too when present. */
export const LEAD_FIELDS = ['phone', 'name', 'company', 'title', 'email', 'unionid', 'externalUserId', 'openid'] as const;
export type LeadField = (typeof LEAD_FIELDS)[number];

/**
 * Header names as operators write them, Chinese or English, compared after lower-casing and
 * dropping spaces, underscores, dashes, a trailing `*` (a "required" mark) and full-width
 * brackets' contents such as `手机号（必填）`.
 */
const HEADER_ALIASES: Readonly<Record<LeadField, readonly string[]>> = {
  phone: [
    '手机',
    '手机号',
    '手机号码',
    '电话',
    '电话号码',
    '联系电话',
    '移动电话',
    '联系方式',
    'phone',
    'mobile',
    'tel',
    'telephone',
    'cellphone',
    'phonenumber',
    'mobilephone',
  ],
  name: ['姓名', '名字', '联系人', '客户姓名', '客户名称', 'name', 'fullname', 'contact', 'contactname'],
  company: ['公司', '公司名称', '单位', '企业', '企业名称', '工作单位', 'company', 'companyname', 'organization', 'organisation', 'org'],
  title: ['职位', '职务', '头衔', '岗位', 'title', 'jobtitle', 'position'],
  email: ['邮箱', '电子邮箱', '邮件', '电子邮件', 'email', 'mail', 'emailaddress'],
  unionid: ['unionid'],
  externalUserId: ['externaluserid', '外部联系人id'],
  openid: ['openid', '公众号openid'],
};

const ALIAS_TO_FIELD = new Map<string, LeadField>(
  LEAD_FIELDS.flatMap((field) => HEADER_ALIASES[field].map((alias) => [alias, field] as [string, LeadField])),
);

export function normalizeHeader(cell: string): string {
  return cell
    .replace(/^\uFEFF/, '')
    .replace(/[（(][^）)]*[）)]/g, '')
    .replace(/[\s_\-*]/g, '')
    .toLowerCase();
}

export interface HeaderMap {
  /** Column index of each field found (the first column of a name wins). */
  columns: Partial<Record<LeadField, number>>;
  /** Header cells no field matched: ignored, and named in the answer so a typo is seen. */
  ignored: string[];
}

export function mapHeader(cells: string[]): HeaderMap {
  const columns: Partial<Record<LeadField, number>> = {};
  const ignored: string[] = [];
  cells.forEach((cell, i) => {
    const field = ALIAS_TO_FIELD.get(normalizeHeader(cell));
    if (field === undefined) {
      if (cell.trim() !== '') ignored.push(cell.trim());
    } else if (columns[field] === undefined) columns[field] = i;
  });
  if (columns.phone === undefined) throw new CsvFileError('no_phone_column', '找不到手机号列：表头需有 手机 / 手机号 / 电话 / phone 之一');
  return { columns, ignored };
}

/** Why a row is refused: a stable code for scripts and a Chinese sentence for the operator. */
export const ROW_ERRORS = {
  phone_missing: '手机号为空',
  phone_scientific: '手机号被 Excel 显示成了科学计数法（如 1.38E+10），请把该列设为文本后重新导出',
  phone_invalid: '手机号格式不正确：需为 11 位中国大陆手机号（可带 +86 / 0086）',
  email_invalid: '邮箱格式不正确',
  too_long: '内容过长',
  identity_conflict: '手机号与 unionid / external_userid 属于不同的已有联系人，未导入',
} as const;
export type RowErrorCode = keyof typeof ROW_ERRORS;

export const DUPLICATE_CODE = 'duplicate_in_file';

/**
 * A mainland mobile as people write it (`138 1234 5678`, `138-1234-5678`, `+86 13812345678`,
 * `008613812345678`, `86-13812345678`, `(+86)13812345678`) in E.164 (`+8613812345678`), or why not.
 * Only mainland mobiles: a lead list of a Chinese trade show is phoned or texted, and the SMS
 * channel (sms.driver.ts) sends to mainland mobiles.
 * @link https://www.itu.int/rec/T-REC-E.164
 */
export function normalizeLeadPhone(text: string): { ok: true; phone: string } | { ok: false; code: RowErrorCode } {
  const trimmed = text.trim();
  if (trimmed === '') return { ok: false, code: 'phone_missing' };
  if (/^\d(\.\d+)?e\+?\d+$/i.test(trimmed)) return { ok: false, code: 'phone_scientific' };
  const compact = trimmed.replace(/[\s\-()（）.]/g, '');
  const national = /^(?:\+86|0086|86)?(1\d{10})$/.exec(compact);
  if (!national || !/^1[3-9]/.test(national[1])) return { ok: false, code: 'phone_invalid' };
  return { ok: true, phone: `+86${national[1]}` };
}

/** Column widths (contacts and import_rows agree), in characters. */
const MAX_LENGTH: Readonly<Record<Exclude<LeadField, 'phone'>, number>> = {
  name: 128,
  company: 128,
  title: 64,
  email: 254,
  unionid: 128,
  externalUserId: 128,
  openid: 128,
};

/** A practical check, not RFC 5322: one @, something on both sides, a dot in the domain, no spaces. */
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export type LeadValues = { phone: string } & Partial<Record<Exclude<LeadField, 'phone'>, string>>;
export type CleanedRow = { ok: true; values: LeadValues } | { ok: false; code: RowErrorCode; message: string };

/** One data row, cleaned: trimmed cells, the phone in E.164, lengths and the e-mail checked. */
export function cleanRow(cells: string[], columns: HeaderMap['columns']): CleanedRow {
  const cell = (field: LeadField): string => {
    const i = columns[field];
    return i === undefined ? '' : (cells[i] ?? '').trim();
  };
  const phone = normalizeLeadPhone(cell('phone'));
  if (!phone.ok) return refuse(phone.code);
  const values: LeadValues = { phone: phone.phone };
  for (const field of LEAD_FIELDS) {
    if (field === 'phone') continue;
    const value = cell(field);
    if (value === '') continue;
    if ([...value].length > MAX_LENGTH[field]) return refuse('too_long', `${ROW_ERRORS.too_long}：${field}`);
    if (field === 'email' && !EMAIL.test(value)) return refuse('email_invalid');
    values[field] = value;
  }
  return { ok: true, values };
}

function refuse(code: RowErrorCode, message: string = ROW_ERRORS[code]): CleanedRow {
  return { ok: false, code, message };
}

/** A row with no text in any cell (Excel leaves `,,,` lines under a table): skipped, not refused. */
export function isBlankRow(cells: string[]): boolean {
  return cells.every((c) => c.trim() === '');
}
