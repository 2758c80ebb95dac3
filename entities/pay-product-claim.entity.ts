import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/**
 * A contact's claim on a once-per-person product (the trial offer): one row per (product, contact),
 * held by the unique key, so two taps on two phones make one order. `orderId` is the order paying
 * for it; an order that closed unpaid or was refunded frees the claim for a new order.
 */
@Entity('pay_product_claims')
@Index('UQ_pay_product_claims_contact', ['productId', 'contactId'], { unique: true })
export class PayProductClaim {
  @PrimaryGeneratedColumn()
  id: number;

  @Column({ type: 'int' })
  productId: number;

  @Column({ type: 'int' })
  contactId: number;

  @Column({ type: 'int', nullable: true })
  orderId: number | null;

  @Column({ type: 'datetime', precision: 3 })
  createdAt: Date;
}
