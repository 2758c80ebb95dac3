import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/** A tag on a contact, with who or what applied it. */
@Entity('contact_tags')
@Index(['contactId', 'tagId'], { unique: true })
// A tag's contacts in id order, from the index alone (the tag filter of the contact list).
@Index('IDX_contact_tags_tag_contact', ['tagId', 'contactId'])
export class ContactTag {
  @PrimaryGeneratedColumn()
  id: number;

  @Column({ type: 'int' })
  contactId: number;

  @Column({ type: 'int' })
  tagId: number;

  /** e.g. `rule:3`, `operator:1`, `wecom`, `oa`. */
  @Column({ type: 'varchar', length: 64 })
  source: string;

  @Column({ type: 'datetime', precision: 3 })
  createdAt: Date;
}
