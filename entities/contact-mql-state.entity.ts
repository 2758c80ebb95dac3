import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * Where a contact stands against the MQL threshold: `above` flips to true by one conditional
 * UPDATE per crossing (so one instance wins it), and back to false when the score falls below,
 * which arms the next crossing.
 */
@Entity('contact_mql_states')
export class ContactMqlState {
  @PrimaryColumn({ type: 'int' })
  contactId: number;

  @Column({ type: 'boolean', default: false })
  above: boolean;

  /** How many times the contact has crossed upwards. */
  @Column({ type: 'int', default: 0 })
  crossings: number;

  @Column({ type: 'datetime', precision: 3 })
  updatedAt: Date;
}
