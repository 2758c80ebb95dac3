import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

export const TAG_CHANGE_ACTOR_KINDS = ['operator', 'rule', 'platform', 'journey', 'system'] as const;
export type TagChangeActorKind = (typeof TAG_CHANGE_ACTOR_KINDS)[number];

/**
 * One tag put on or taken off a contact, with who did it: the contact's tag history on its
 * timeline. contact_tags holds only the present (a removed tag leaves no row there), and its
 * `source` only who added a tag; the audit log names the operator but not rule hits or platform
 * edits, and is not read per contact. Written by ContactTagsService.applyTags in the same
 * transaction as the change itself, so the history and the tags never disagree.
 */
@Entity('contact_tag_changes')
// The timeline reads one contact's changes newest first, a page at a time (the index ends in the
// primary key on both databases, which the keyset cursor uses to break ties).
@Index('IDX_contact_tag_changes_contact_at', ['contactId', 'at'])
export class ContactTagChange {
  @PrimaryGeneratedColumn()
  id: number;

  @Column({ type: 'int' })
  contactId: number;

  /** The tag may be deleted later; tagName keeps what it was called then. */
  @Column({ type: 'int' })
  tagId: number;

  @Column({ type: 'varchar', length: 64 })
  tagName: string;

  /** `add` or `remove` (the column is not called `change`: a reserved word on MySQL). */
  @Column({ type: 'varchar', length: 8 })
  op: 'add' | 'remove';

  @Column({ type: 'varchar', length: 16 })
  actorKind: TagChangeActorKind;

  /** The operator's, the rule's or the journey's id; null for a platform or the system. */
  @Column({ type: 'int', nullable: true })
  actorId: number | null;

  /** The rule's or the journey's name or the platform (`wecom`, `oa`) at the time; operators are named when read (their display name may change). */
  @Column({ type: 'varchar', length: 64, nullable: true })
  actorName: string | null;

  /** Why: `manual`, `bulk_selected`, `bulk_filter`, `rule`, `platform_edit`, `silent`, `channel`, `journey`. */
  @Column({ type: 'varchar', length: 32 })
  cause: string;

  /** The interaction that fired the rule, for a rule hit. */
  @Column({ type: 'int', nullable: true })
  interactionId: number | null;

  @Column({ type: 'datetime', precision: 3 })
  at: Date;
}
