import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/** AARRR lifecycle stages. */
export const LIFECYCLE_STAGES = ['acquired', 'activated', 'retained', 'revenue', 'referral'] as const;
export type LifecycleStage = (typeof LIFECYCLE_STAGES)[number];

/** One person, whatever channels they reached us through. Identities point here. */
@Entity('contacts')
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

  /** WeCom userid of the sales rep who owns the relationship (the last one who added them). */
  @Index()
  @Column({ type: 'varchar', length: 64, nullable: true })
  ownerUserId: string | null;

  /** Set when this contact was merged into another one; merged contacts keep no identities. */
  @Column({ type: 'int', nullable: true })
  mergedIntoId: number | null;

  @Column({ type: 'datetime', precision: 3 })
  createdAt: Date;

  @Column({ type: 'datetime', precision: 3 })
  updatedAt: Date;
}
