import type { Translator } from '../shared/errors';
import type { AuditDetail, AuditEntry, DisplayIdentity } from '../shared/types';

/**
 * The audit screen's logic, pure so jest tests it: the detail as readable lines, and the date
 * filter's days turned into instants in the business time zone (the API takes ISO times).
 */
export interface DetailLine {
  field: string;
  text: string;
}

/** Every action the server records, in the order the filter lists them. */
export const AUDIT_ACTIONS = [
  'login',
  'login_failed',
  'logout',
  'operator.bootstrap',
  'operator.create',
  'operator.update',
  'operator.change_password',
  'operator.change_password_failed',
  'operator.reset_password',
  'operator.mp_binding_code',
  'operator.mp_bind',
  'operator.mp_unbind',
  'tag_group.create',
  'tag_group.update',
  'tag_group.delete',
  'tag.create',
  'tag.update',
  'tag.delete',
  'tag_rule.create',
  'tag_rule.update',
  'tag_rule.delete',
  'segment.create',
  'segment.update',
  'segment.delete',
  'contact.update',
  'contact.tags',
  'contact.bulk_tags',
  'contact.bulk_tags_job',
  'contact.export',
  'failed_work.retry',
  'setup.check',
  'score_rule.create',
  'score_rule.update',
  'score_rule.delete',
  'scoring.settings',
  'stage_rule.create',
  'stage_rule.update',
  'stage_rule.delete',
  'contact.set_stage',
  'journey.create',
  'journey.save_version',
  'journey.publish',
  'journey.pause',
  'journey.resume',
  'journey.enroll',
  'broadcast.create',
  'broadcast.pause',
  'broadcast.resume',
  'broadcast.cancel',
  'delivery_settings.update',
  'journey.migrate_runs',
  'pay_product.create',
  'pay_order.refund',
  'channel.create',
  'channel.update',
  'channel.archive',
  'event.create',
  'event.update',
  'content.create',
  'content.update',
  'content.upload',
  'content.archive',
  'import.apply',
  'event.report_export',
  'sidebar.tags',
  'sidebar.set_stage',
  'sidebar.note',
  'sidebar.followup_done',
  'sidebar.share',
  'card.update',
] as const;

/** Prefixes the filter offers as "every action on …" (the API takes a prefix ending in a dot). */
export const AUDIT_ACTION_GROUPS = [
  'operator',
  'tag_group',
  'tag',
  'tag_rule',
  'segment',
  'journey',
  'broadcast',
  'channel',
  'event',
  'content',
  'contact',
  'sidebar',
  'card',
] as const;

/** The filter's options: each group, then each action, labelled; the value is what the API takes. */
export function auditActionOptions(t: Translator): { value: string; label: string }[] {
  return [
    ...AUDIT_ACTION_GROUPS.map((group) => ({ value: `${group}.`, label: t.t(`labels.actionGroups.${group}`) })),
    ...AUDIT_ACTIONS.map((action) => ({ value: action, label: auditActionLabel(action, t) })),
  ];
}

/** "修改密码" for `operator.change_password`; an action this page does not know keeps its code. */
export function auditActionLabel(action: string, t: Translator): string {
  // vue-i18n reads dots as nesting, so the key spells `operator.change_password` as `operator_change_password`.
  const key = `labels.actions.${action.replace('.', '_')}`;
  return t.has(key) ? t.t(key) : action;
}

/** As customer.ts words it (that module imports through the page's aliases, which jest does not resolve). */
function contactName(display: DisplayIdentity, t: Translator): string {
  if (display.kind === 'remark' || display.kind === 'name') return display.text;
  return t.t(`customer.kinds.${display.kind}`, { text: display.text });
}

/** "标签 购买意向/需要发票", "操作员 lisi", "客户 公众号粉丝 A1b2"; the id when the name is unknown. */
export function auditTargetLabel(entry: Pick<AuditEntry, 'targetType' | 'targetId' | 'target'>, t: Translator): string {
  if (entry.targetType === null) return '';
  const kindKey = `labels.targets.${entry.targetType}`;
  const kind = t.has(kindKey) ? t.t(kindKey) : entry.targetType;
  const name = entry.target?.contact ? contactName(entry.target.contact, t) : (entry.target?.name ?? null);
  if (name !== null) return `${kind} ${name}`;
  return entry.targetId === null ? kind : `${kind} #${entry.targetId}`;
}

function fieldLabel(field: string, t: Translator): string {
  const key = `labels.fields.${field}`;
  return t.has(key) ? t.t(key) : field;
}

/** A value as words: yes/no, empty, a role, an interaction type; a JSON object as "field: value" pairs. */
function show(value: AuditDetail[string] | undefined, t: Translator, field = ''): string {
  if (value === undefined || value === null || value === '') return t.t('labels.values.none');
  if (typeof value === 'boolean') return t.t(value ? 'labels.values.yes' : 'labels.values.no');
  // Platform keys in a setup check's lists read as the platforms' names.
  if (Array.isArray(value))
    return value.length === 0
      ? t.t('labels.values.none')
      : value.map((item) => (typeof item === 'string' && t.has(`labels.values.${item}`) ? t.t(`labels.values.${item}`) : item)).join('、');
  if (typeof value === 'string') {
    if (field === 'role' && t.has(`roles.${value}`)) return t.t(`roles.${value}`);
    if (field === 'interactionType' && t.has(`interactionTypes.${value}`)) return t.t(`interactionTypes.${value}`);
    if (field === 'matchKind' && t.has(`rules.kinds.${value}`)) return t.t(`rules.kinds.${value}`);
    if (field === 'contentKind' && t.has(`contentPage.kinds.${value}`)) return t.t(`contentPage.kinds.${value}`);
    if (t.has(`labels.values.${value}`)) return t.t(`labels.values.${value}`);
    const parsed = parseJson(value);
    if (parsed !== undefined) return showJson(parsed, t);
  }
  return String(value);
}

function parseJson(text: string): unknown {
  if (!/^[[{]/.test(text)) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** Structured values (a filter, a tag list, an article) as readable text, never raw JSON. */
function showJson(value: unknown, t: Translator): string {
  if (value === null || value === undefined || value === '') return t.t('labels.values.none');
  if (Array.isArray(value)) return value.length === 0 ? t.t('labels.values.none') : value.map((item) => showJson(item, t)).join('、');
  if (typeof value === 'object') {
    const record = value as Record<string, unknown>;
    // A tag reference reads as the operator types it.
    if (typeof record.group === 'string' && typeof record.name === 'string' && Object.keys(record).length === 2)
      return `${record.group}/${record.name}`;
    const parts = Object.entries(record)
      .filter(([, item]) => item !== undefined && item !== null && item !== '')
      .map(
        ([key, item]) =>
          `${fieldLabel(key, t)}: ${key === 'stage' && typeof item === 'string' && t.has(`stages.${item}`) ? t.t(`stages.${item}`) : showJson(item, t)}`,
      );
    return parts.length === 0 ? t.t('labels.values.none') : parts.join('；');
  }
  if (typeof value === 'boolean') return t.t(value ? 'labels.values.yes' : 'labels.values.no');
  return typeof value === 'string' || typeof value === 'number' ? String(value) : '';
}

/**
 * The detail as one line a field, with the field's label: an update's `changed` + `before.x` /
 * `after.x` (and the older `xBefore` / `xAfter` pairs) as "before → after"; other keys as they are.
 */
export function auditDetailLines(detail: AuditDetail | null | undefined, t: Translator): DetailLine[] {
  if (!detail) return [];
  const lines: DetailLine[] = [];
  const changed = Array.isArray(detail.changed) ? detail.changed.map(String) : [];
  for (const field of changed)
    lines.push({
      field: fieldLabel(field, t),
      text: `${show(detail[`before.${field}`], t, field)} → ${show(detail[`after.${field}`], t, field)}`,
    });
  const paired = new Set<string>();
  for (const key of Object.keys(detail)) {
    const match = /^(.+)Before$/.exec(key);
    if (match?.[1] && `${match[1]}After` in detail) paired.add(match[1]);
  }
  for (const field of paired)
    lines.push({
      field: fieldLabel(field, t),
      text: `${show(detail[`${field}Before`], t, field)} → ${show(detail[`${field}After`], t, field)}`,
    });
  for (const [key, value] of Object.entries(detail)) {
    if (key === 'changed') continue;
    const dot = key.indexOf('.');
    if (dot > 0 && (key.startsWith('before.') || key.startsWith('after.')) && changed.includes(key.slice(dot + 1))) continue;
    const pair = /^(.+)(Before|After)$/.exec(key);
    if (pair?.[1] && paired.has(pair[1])) continue;
    // Contact ids read as a count: the ids themselves say nothing to a reader.
    if (key === 'contactIds' && Array.isArray(value)) {
      lines.push({ field: fieldLabel(key, t), text: t.t('labels.contactCount', { count: value.length }) });
      continue;
    }
    lines.push({ field: fieldLabel(key, t), text: show(value, t, key) });
  }
  return lines;
}

/** The offset of `timeZone` from UTC at `at`, in milliseconds (positive east of Greenwich). */
function offsetAt(at: number, timeZone: string): number {
  const parts: Record<string, number> = {};
  const formatter = new Intl.DateTimeFormat('en-US', {
    timeZone,
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
    hourCycle: 'h23',
  });
  for (const part of formatter.formatToParts(new Date(at))) if (part.type !== 'literal') parts[part.type] = Number(part.value);
  const wall = Date.UTC(parts.year ?? 1970, (parts.month ?? 1) - 1, parts.day ?? 1, parts.hour ?? 0, parts.minute ?? 0, parts.second ?? 0);
  return wall - Math.floor(at / 1000) * 1000;
}

/** Midnight starting day `YYYY-MM-DD` (plus `addDays`) in the zone, as an ISO instant; null for no day. */
export function dayStartIso(day: string | null | undefined, timeZone: string, addDays = 0): string | null {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day ?? '');
  if (!match) return null;
  const guess = Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]) + addDays);
  // Two passes: the offset at the guessed instant, then at the corrected one (daylight-saving edges).
  let at = guess - offsetAt(guess, timeZone);
  at = guess - offsetAt(at, timeZone);
  return new Date(at).toISOString();
}

/** The audit-log query for a from..to day range (both days included). */
export function auditRange(from: string | null, to: string | null, timeZone: string): { from?: string; to?: string } {
  const out: { from?: string; to?: string } = {};
  const start = dayStartIso(from, timeZone);
  const end = dayStartIso(to, timeZone, 1);
  if (start) out.from = start;
  if (end) out.to = end;
  return out;
}
