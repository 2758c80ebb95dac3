import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * The channel a contact last opened a message on (a tracked-link click): what a journey's
 * "preferred channel" send uses. Its own table rather than a column of contacts, so the contacts
 * row a callback updates is not rewritten by every click.
 */
@Entity('contact_channel_preferences')
export class ContactChannelPreference {
  @PrimaryColumn({ type: 'int' })
  contactId: number;

  @Column({ type: 'varchar', length: 24 })
  channel: string;

  @Column({ type: 'datetime', precision: 3 })
  updatedAt: Date;
}
