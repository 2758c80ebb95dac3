import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/**
 * A share token of a card: one per (card, viewer), given to the viewer with the card so whatever
 * they forward carries it. `parentId` is the share the viewer first arrived through (null: straight
 * from the rep), so the referral chain is a walk up the parents. `contactId` null is the rep's own
 * token (the rep opening their card in the mini-program): a link in no chain.
 */
@Entity('card_shares')
@Index('UQ_card_shares_token', ['token'], { unique: true })
@Index('UQ_card_shares_viewer', ['operatorId', 'contactId'], { unique: true })
export class CardShare {
  @PrimaryGeneratedColumn()
  id: number;

  /** 128 random bits, base64url: unguessable, so nobody can claim to have been forwarded a card. */
  @Column({ type: 'varchar', length: 32 })
  token: string;

  /** The card (its operator). A token only counts for the card it was made for. */
  @Column({ type: 'int' })
  operatorId: number;

  @Column({ type: 'int', nullable: true })
  contactId: number | null;

  @Column({ type: 'int', nullable: true })
  parentId: number | null;

  @Column({ type: 'datetime', precision: 3 })
  createdAt: Date;
}
