import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

export const CARD_RELATIONS = ['visitor', 'contact'] as const;
export type CardRelation = (typeof CARD_RELATIONS)[number];

/** What makes a card's viewer a contact the rep follows (a view alone does not). */
export const CARD_ACTIONS = ['save_contact', 'add_wecom', 'leave_phone'] as const;
export type CardAction = (typeof CARD_ACTIONS)[number];

/**
 * Someone who opened a rep's card (the rep's visitor list): one row per (card, viewer) with their
 * first and last view, how many views and seconds, the share they first came through (null:
 * straight from the rep), and whether they became the rep's contact, when and by which action.
 * `notifyStatus` keeps the rep's "new viewer" app message at most once, as sales_assignments does.
 */
@Entity('card_visitors')
@Index('UQ_card_visitors_viewer', ['operatorId', 'contactId'], { unique: true })
@Index('IDX_card_visitors_list', ['operatorId', 'lastViewedAt', 'id'])
export class CardVisitor {
  @PrimaryGeneratedColumn()
  id: number;

  @Column({ type: 'int' })
  operatorId: number;

  @Column({ type: 'int' })
  contactId: number;

  @Column({ type: 'datetime', precision: 3 })
  firstViewedAt: Date;

  @Column({ type: 'datetime', precision: 3 })
  lastViewedAt: Date;

  @Column({ type: 'int', default: 0 })
  views: number;

  @Column({ type: 'int', default: 0 })
  seconds: number;

  @Column({ type: 'int', nullable: true })
  firstShareId: number | null;

  @Column({ type: 'varchar', length: 16, default: 'visitor' })
  relation: CardRelation;

  @Column({ type: 'datetime', precision: 3, nullable: true })
  becameContactAt: Date | null;

  @Column({ type: 'varchar', length: 16, nullable: true })
  becameContactBy: CardAction | null;

  @Column({ type: 'varchar', length: 16, default: 'pending' })
  notifyStatus: 'pending' | 'sending' | 'sent' | 'failed' | 'skipped';
}
