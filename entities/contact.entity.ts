import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/** AARRR lifecycle stages. */
export const LIFECYCLE_STAGES = ['acquired', 'activated', 'retained', 'revenue', 'referral'] as const;
export type LifecycleStage = (typeof LIFECYCLE_STAGES)[number];

/**
 * One person, whatever channels they reached us through. Identities point here. Indexed for the
 * admin list's filters and for "silent since" queries on a million contacts.
 */
@Entity('contacts')
@Index('IDX_contacts_score', ['score'])
@Index('IDX_contacts_first_source', ['firstSource'])
// The dashboard's counts of live (unmerged) contacts, each from one index range (migration 1795600500000).
@Index('IDX_contacts_live_created', ['mergedIntoId', 'createdAt', 'firstSource'])
// The list's filters on contacts in id order: pages walk it and tag or rep pages probe it by id,
// without reading a row (migration 1795780000000; it replaced (merged_into_id, stage)).
@Index('IDX_contacts_live_list', ['mergedIntoId', 'id', 'stage', 'firstSource', 'score', 'lastInteractionAt'])
@Index('IDX_contacts_live_last_interaction', ['mergedIntoId', 'lastInteractionAt'])
// The list's "active in N days + stage": its matches as one range, ids included (migration 1795750000000).
@Index('IDX_contacts_live_stage_last_interaction', ['mergedIntoId', 'stage', 'lastInteractionAt'])
export class Contact {
  @PrimaryGeneratedColumn()
  id: number;

  @Column({ type: 'varchar', length: 128, nullable: true })
  name: string | null;

  @Column({ type: 'varchar', length: 512, nullable: true })
  avatarUrl: string | null;

  @Column({ type: 'int', default: 0 })
  score: number;

  @Column({ type: 'varchar', length: 16, default: 'acquired' })
  stage: LifecycleStage;

  /** Channel code of the first touch: QR scene, contact-way state, or the channel itself. */
  @Column({ type: 'varchar', length: 128, nullable: true })
  firstSource: string | null;

  @Column({ type: 'datetime', precision: 3, nullable: true })
  firstSourceAt: Date | null;

  @Column({ type: 'varchar', length: 128, nullable: true })
  lastSource: string | null;

  @Column({ type: 'datetime', precision: 3, nullable: true })
  lastSourceAt: Date | null;

  /** When the contact last did anything (newest interaction), for active/silent segments. */
  @Column({ type: 'datetime', precision: 3, nullable: true })
  lastInteractionAt: Date | null;

  /**
   * WeCom userid of the rep who first added them (the relationship's owner for tag syncs). Who may
   * see the contact is decided by contact_follows, which keeps every rep's relation.
   */
  @Index()
  @Column({ type: 'varchar', length: 64, nullable: true })
  ownerUserId: string | null;

  /**
   * The operator's note on who this is ("展会A 王总"), shown as the contact's name when set. Set
   * only from the admin page (PATCH /api/admin/contacts/:id), never by a platform.
   */
  @Column({ type: 'varchar', length: 100, nullable: true })
  remark: string | null;

  /**
   * A phone number an operator typed, as `13812345678` or `+<country><number>`. Kept apart from
   * the phone identity (a verified number from the mini-program or a form), which merges contacts
   * that share it: a number typed by hand must never merge two people.
   */
  @Column({ type: 'varchar', length: 20, nullable: true })
  phone: string | null;

  /** Company, job title and e-mail, as a lead import (or a form) gave them; filled, never guessed. */
  @Column({ type: 'varchar', length: 128, nullable: true })
  company: string | null;

  @Column({ type: 'varchar', length: 64, nullable: true })
  title: string | null;

  @Column({ type: 'varchar', length: 254, nullable: true })
  email: string | null;

  /**
   * The contact's own IANA time zone (`America/New_York`), set by an operator; null: the business
   * zone (BUSINESS_TIMEZONE). Journeys' "until 09:00" waits and the outbox's quiet hours read it.
   */
  @Column({ type: 'varchar', length: 64, nullable: true })
  timeZone: string | null;

  /** Set when this contact was merged into another one; merged contacts keep no identities. */
  @Column({ type: 'int', nullable: true })
  mergedIntoId: number | null;

  @Column({ type: 'datetime', precision: 3 })
  createdAt: Date;

  @Column({ type: 'datetime', precision: 3 })
  updatedAt: Date;
}
