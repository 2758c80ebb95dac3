import en from '../../../web/shared/i18n/en';
import zhCN from '../../../web/shared/i18n/zh-CN';
import type { ContactListItem } from './contacts-query.service';

/**
 * CSV for Excel as operators open it: UTF-8 with a byte-order mark (without one Excel reads
 * Chinese as mojibake), CRLF line ends and RFC 4180 quoting.
 * @link https://www.rfc-editor.org/rfc/rfc4180
 * @link https://owasp.org/www-community/attacks/CSV_Injection
 */
export const CSV_BOM = '\uFEFF';

/** The export's languages: the page's (`?locale=`), zh-CN unless asked otherwise. */
export const CSV_LOCALES = ['zh-CN', 'en'] as const;
export type CsvLocale = (typeof CSV_LOCALES)[number];

export interface ContactCsvLabels {
  headers: string[];
  /** Stage code → its word (获客, 激活 …); the page's own labels, so the file and the screen agree. */
  stages: Readonly<Record<string, string>>;
}

/** Headers and stage words from the page's locale catalogues. Pure. */
export function contactCsvLabels(locale: CsvLocale = 'zh-CN'): ContactCsvLabels {
  const messages = locale === 'en' ? en : zhCN;
  const csv = messages.labels.csv;
  return {
    headers: [csv.name, csv.openid, csv.unionid, csv.externalUserId, csv.tags, csv.score, csv.stage, csv.source],
    stages: messages.stages,
  };
}

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

export function formatContactCsvRow(contact: ContactListItem, labels: ContactCsvLabels = contactCsvLabels()): string {
  return formatCsvRow([
    contact.name,
    contact.openid,
    contact.unionid,
    contact.externalUserId,
    contact.tags.join('、'),
    contact.score,
    labels.stages[contact.stage] ?? contact.stage,
    contact.source,
  ]);
}
