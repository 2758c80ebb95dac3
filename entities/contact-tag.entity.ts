import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/** A tag on a contact, with who or what applied it. */
@Entity('contact_tags')
@Index(['contactId', 'tagId'], { unique: true })
export class ContactTag {
  @PrimaryGeneratedColumn()
  id: number;

  @Column({ type: 'int' })
  contactId: number;

  @Index()
  @Column({ type: 'int' })
  tagId: number;

  /** e.g. `rule:3`, `operator:1`, `wecom`, `oa`. */
  @Column({ type: 'varchar', length: 64 })
  source: string;

  @Column({ type: 'datetime', precision: 3 })
  createdAt: Date;
}
