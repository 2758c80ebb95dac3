import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import type { LifecycleStage } from './contact.entity';

/** Who moved a stage: a stage rule, an operator, a journey, or Flywheel itself. */
export const STAGE_CHANGE_ACTOR_KINDS = ['rule', 'operator', 'journey', 'system'] as const;
export type StageChangeActorKind = (typeof STAGE_CHANGE_ACTOR_KINDS)[number];

/** One move of a contact's lifecycle stage, with who or what moved it: on the contact's timeline. */
@Entity('contact_stage_changes')
// The timeline reads one contact's changes newest first (the index ends in the primary key).
@Index('IDX_contact_stage_changes_contact_at', ['contactId', 'at'])
export class ContactStageChange {
  @PrimaryGeneratedColumn()
  id: number;

  @Column({ type: 'int' })
  contactId: number;

  @Column({ type: 'varchar', length: 16 })
  fromStage: LifecycleStage;

  @Column({ type: 'varchar', length: 16 })
  toStage: LifecycleStage;

  @Column({ type: 'varchar', length: 16 })
  actorKind: StageChangeActorKind;

  /** The stage rule's, operator's or journey's id. */
  @Column({ type: 'int', nullable: true })
  actorId: number | null;

  /** The journey's name then, or a short description of the rule. */
  @Column({ type: 'varchar', length: 64, nullable: true })
  actorName: string | null;

  /** The interaction that fired a rule. */
  @Column({ type: 'int', nullable: true })
  interactionId: number | null;

  @Column({ type: 'datetime', precision: 3 })
  at: Date;
}
