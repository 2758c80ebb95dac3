import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

/**
 * Something sold through WeChat Pay: a trial offer (一元体验, 100 fen) or a paid ticket. Prices are
 * integer fen, as the Pay API takes them; an inactive product takes no new orders.
 */
@Entity('pay_products')
export class PayProduct {
  @PrimaryGeneratedColumn()
  id: number;

  @Column({ type: 'varchar', length: 100 })
  name: string;

  /** In fen (分): 100 is ¥1. */
  @Column({ type: 'int' })
  priceFen: number;

  @Column({ type: 'boolean', default: true })
  active: boolean;

  /** Sold once per person (the trial offer): a second order is refused while the first is paid (pay_product_claims). */
  @Column({ type: 'boolean', default: false })
  oncePerContact: boolean;

  @Column({ type: 'datetime', precision: 3 })
  createdAt: Date;

  @Column({ type: 'datetime', precision: 3 })
  updatedAt: Date;
}
