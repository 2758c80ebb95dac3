import type { Translator } from '../shared/errors';
import type { FailedWorkItem } from '../shared/types';

/**
 * A failed-work row in words, pure so jest tests it: what the work was ("同步标签到公众号：为客户
 * 公众号粉丝 A1b2 添加标签 购买意向/需要发票") and the platform's errcode as a sentence. The task kind,
 * its key and the raw error stay behind the row's 详情 fold.
 */
export interface FailedWorkView {
  what: string;
  /** The errcode as a sentence; null when the error carries none (the raw error then says it). */
  problem: string | null;
}

/** "公众号粉丝 A1b2", as customer.ts words a display identity (imported here without the page's aliases). */
function contactName(contact: NonNullable<NonNullable<FailedWorkItem['subject']>['contact']>, t: Translator): string {
  if (contact.kind === 'remark' || contact.kind === 'name') return contact.text;
  return t.t(`customer.kinds.${contact.kind}`, { text: contact.text });
}

/** Where a platform errcode's sentence is, in the one catalogue every screen reads (`m1` is -1). */
export function errcodeKey(code: number): string {
  return `labels.errcodes.${code < 0 ? `m${-code}` : `e${code}`}`;
}

/** The errcode's sentence; a code this page has no words for still reads as a sentence with its number. */
export function errcodeSentence(code: number, t: Translator): string {
  const key = errcodeKey(code);
  return t.has(key) ? t.t(key) : t.t('labels.work.platformError', { code });
}

function whatOf(item: FailedWorkItem, reactions: boolean, t: Translator): string {
  if (reactions) {
    if (!item.kind) return t.t('labels.work.reactionUnknown');
    const type = t.has(`interactionTypes.${item.kind}`) ? t.t(`interactionTypes.${item.kind}`) : item.kind;
    return t.t('labels.work.reaction', { type });
  }
  const kindKey = `labels.work.kinds.${item.kind ?? ''}`;
  if (!item.kind || !t.has(kindKey)) return t.t('labels.work.otherKind', { kind: item.kind ?? '' });
  const kind = t.t(kindKey);
  const subject = item.subject;
  const op = subject?.op ?? null;
  if (subject && op && t.has(`labels.work.${op}`)) {
    const contact = subject.contact ? `${t.t('labels.work.aContact')} ${contactName(subject.contact, t)}` : t.t('labels.work.aContact');
    const tag = subject.tag ?? t.t('labels.work.aTag');
    return t.t('labels.work.sentence', { kind, what: t.t(`labels.work.${op}`, { contact, tag, count: subject.count ?? 0 }) });
  }
  return kind;
}

export function describeFailedWorkItem(item: FailedWorkItem, reactions: boolean, t: Translator): FailedWorkView {
  return { what: whatOf(item, reactions, t), problem: item.errcode ? errcodeSentence(item.errcode.code, t) : null };
}
