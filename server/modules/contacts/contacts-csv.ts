import type { ContactListItem } from './contacts-query.service';

/**
 * CSV for Excel as operators open it: UTF-8 with a byte-order mark (without one Excel reads
 * Chinese as mojibake), CRLF line ends and RFC 4180 quoting.
 * @link https://www.rfc-editor.org/rfc/rfc4180
 * @link https://owasp.org/www-community/attacks/CSV_Injection
 */
export const CSV_BOM = '\uFEFF';

export const CONTACT_CSV_HEADERS = ['姓名', 'openid', 'unionid', '外部联系人ID', '标签', '分数', '阶段', '来源'] as const;

/**
 * One cell. Text that a spreadsheet would run as a formula (it starts with = + - @, or a tab or
 * carriage return that Excel skips before one) gets a leading apostrophe: names and tags come
 * from followers. Numbers Flywheel computes (the score) are written as they are, so -5 stays a number.
 */
export function formatCsvCell(value: string | number | null): string {
  if (value === null) return '';
  if (typeof value === 'number') return String(value);
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

export function formatCsvRow(cells: (string | number | null)[]): string {
  return `${cells.map(formatCsvCell).join(',')}\r\n`;
}

export function formatContactCsvRow(contact: ContactListItem): string {
  return formatCsvRow([
    contact.name,
    contact.openid,
    contact.unionid,
    contact.externalUserId,
    contact.tags.join('、'),
    contact.score,
    contact.stage,
    contact.source,
  ]);
}
