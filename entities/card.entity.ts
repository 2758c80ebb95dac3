import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * A rep's business card (名片, issue 17 §1): one per operator, so the operator's id is its key. What
 * the mini-program shows beside the operator's own name; `materialIds` are content-centre materials
 * (the card shows the live ones, in this order); `channelId` is the rep's WeCom contact way made on
 * the first save (server/modules/channels), so an add through the card's QR is attributed to it.
 */
@Entity('cards')
@Index('IDX_cards_company', ['company'])
export class Card {
  @PrimaryColumn({ type: 'int' })
  operatorId: number;

  @Column({ type: 'varchar', length: 64, nullable: true })
  title: string | null;

  @Column({ type: 'varchar', length: 128, nullable: true })
  company: string | null;

  /** As an operator types it, normalised (a mainland mobile, or E.164). */
  @Column({ type: 'varchar', length: 32, nullable: true })
  phone: string | null;

  @Column({ type: 'varchar', length: 1024, nullable: true })
  avatarUrl: string | null;

  @Column({ type: 'varchar', length: 1000, nullable: true })
  intro: string | null;

  @Column({ type: 'json' })
  materialIds: number[];

  @Column({ type: 'int', nullable: true })
  channelId: number | null;

  @Column({ type: 'datetime', precision: 3 })
  createdAt: Date;

  @Column({ type: 'datetime', precision: 3 })
  updatedAt: Date;
}
