import type { Translator } from '../shared/errors';
import { chainText } from '../shared/timeline';
import type { ContentKind } from './content';

/**
 * The 名片 screen's shapes (CARD-CONTRACT.md, the admin routes under /api/admin/cards) and the
 * pure parts of the screen, so jest tests them.
 */

/** `GET /api/admin/cards`: admins and marketers see everyone, a sales rep their own. */
export interface CardListItem {
  operatorId: number;
  name: string;
  role: string;
  title: string | null;
  company: string | null;
  hasCard: boolean;
  visitors: number;
  contacts: number;
}

/** `GET /api/admin/cards/:operatorId` (404 `card_not_found` until the first save). */
export interface CardView {
  operatorId: number;
  name: string;
  title: string | null;
  company: string | null;
  phone: string | null;
  avatarUrl: string | null;
  intro: string | null;
  materials: { id: number; title: string; kind: ContentKind }[];
  contactWay: { channelId: number; qrUrl: string } | null;
  mpPath: string;
}

export const CARD_ACTIONS = ['save_contact', 'add_wecom', 'leave_phone'] as const;
export type CardAction = (typeof CARD_ACTIONS)[number];
export const MAX_CARD_MATERIALS = 6;

/** One row of `GET /api/admin/cards/:operatorId/visitors`, newest view first. */
export interface CardVisitor {
  contactId: number;
  name: string | null;
  avatarUrl: string | null;
  firstViewedAt: string;
  lastViewedAt: string;
  views: number;
  seconds: number;
  relation: 'visitor' | 'contact';
  becameContactAt: string | null;
  becameContactBy: CardAction | null;
  chain: { contactId: number; name: string | null }[];
}

export interface CardVisitorPage {
  items: CardVisitor[];
  nextCursor: string | null;
}

export interface CardForm {
  title: string;
  company: string;
  phone: string;
  avatarUrl: string;
  intro: string;
  materialIds: number[];
}

export function cardFormOf(card: CardView | null): CardForm {
  return {
    title: card?.title ?? '',
    company: card?.company ?? '',
    phone: card?.phone ?? '',
    avatarUrl: card?.avatarUrl ?? '',
    intro: card?.intro ?? '',
    materialIds: card?.materials.map((m) => m.id) ?? [],
  };
}

/** The PUT body: blank text is "none" (null), never an empty string the card would show. */
export function cardBodyOf(form: CardForm): Record<string, unknown> {
  const orNull = (text: string): string | null => (text.trim() === '' ? null : text.trim());
  return {
    title: orNull(form.title),
    company: orNull(form.company),
    phone: orNull(form.phone),
    avatarUrl: orNull(form.avatarUrl),
    intro: orNull(form.intro),
    materialIds: form.materialIds,
  };
}

/** A visitor by name, else as the contacts list names a nameless contact (客户 #id). */
export function visitorName(visitor: Pick<CardVisitor, 'contactId' | 'name'>, t: Translator): string {
  return visitor.name ?? t.t('customer.kinds.contact', { text: visitor.contactId });
}

/** How they came: 张三 → 李四 (the forwarders, first to last), or straight from the rep. */
export function visitorSource(visitor: Pick<CardVisitor, 'chain'>, t: Translator): string {
  return visitor.chain.length > 0 ? chainText(visitor.chain, t) : t.t('cardsPage.visitors.direct');
}

/** 访客, or 已成为联系人 and how (存入通讯录 / 添加企业微信 / 留下手机号). */
export function visitorRelation(visitor: Pick<CardVisitor, 'relation' | 'becameContactBy'>, t: Translator): string {
  if (visitor.relation === 'visitor') return t.t('cardsPage.visitors.relations.visitor');
  const how = visitor.becameContactBy ? t.t(`timeline.card.actions.${visitor.becameContactBy}`) : null;
  return how ? t.t('cardsPage.visitors.becameBy', { how }) : t.t('cardsPage.visitors.relations.contact');
}
