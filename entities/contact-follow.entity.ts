import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

export type FollowStatus = 'active' | 'removed';

/**
 * A WeCom follow relation (follow_user): a sales rep who has the customer as an external
 * contact. A customer may be followed by several reps at once; each keeps their relation, and a
 * sales operator sees the contacts with an active relation to them.
 */
@Entity('contact_follows')
@Index('UQ_contact_follows_contact_user', ['contactId', 'userId'], { unique: true })
@Index('IDX_contact_follows_user', ['userId', 'status', 'contactId'])
export class ContactFollow {
  @PrimaryGeneratedColumn()
  id: number;

  @Column({ type: 'int' })
  contactId: number;

  /** The rep's WeCom userid. */
  @Column({ type: 'varchar', length: 64 })
  userId: string;

  @Column({ type: 'varchar', length: 16, default: 'active' })
  status: FollowStatus;

  /** The contact-way `state` the customer added this rep through, if any. */
  @Column({ type: 'varchar', length: 128, nullable: true })
  state: string | null;

  @Column({ type: 'datetime', precision: 3 })
  createdAt: Date;

  @Column({ type: 'datetime', precision: 3 })
  updatedAt: Date;
}
