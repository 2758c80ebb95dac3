import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/**
 * created → paid | closed; paid → refunding → refunded. Each move is one guarded UPDATE
 * (`WHERE state = <from>`), so a notification WeChat delivers many times changes an order once.
 */
export const PAY_ORDER_STATES = ['created', 'paid', 'closed', 'refunding', 'refunded'] as const;
export type PayOrderState = (typeof PAY_ORDER_STATES)[number];

/**
 * One JSAPI payment. `outTradeNo` is ours and unique: WeChat Pay keys the order by it, so a prepay
 * retried with the same number never makes a second charge. What was bought is a product, or a
 * generic reference (`refType`/`refId`: an event registration later).
 */
@Entity('pay_orders')
@Index('UQ_pay_orders_out_trade_no', ['outTradeNo'], { unique: true })
@Index('IDX_pay_orders_state', ['state', 'createdAt'])
@Index('IDX_pay_orders_contact', ['contactId', 'createdAt'])
@Index('IDX_pay_orders_ref', ['refType', 'refId'])
export class PayOrder {
  @PrimaryGeneratedColumn()
  id: number;

  /** 6 to 32 of [A-Za-z0-9_-|*] (商户订单号). */
  @Column({ type: 'varchar', length: 32 })
  outTradeNo: string;

  @Column({ type: 'int' })
  contactId: number;

  /** The payer's openid under `appId` (JSAPI needs it). */
  @Column({ type: 'varchar', length: 64 })
  openid: string;

  @Column({ type: 'varchar', length: 32 })
  appId: string;

  @Column({ type: 'int', nullable: true })
  productId: number | null;

  /** What the order pays for, besides a product: `registration` and its id, ... */
  @Column({ type: 'varchar', length: 32, nullable: true })
  refType: string | null;

  @Column({ type: 'varchar', length: 64, nullable: true })
  refId: string | null;

  /** Shown in the WeChat payment sheet (description, at most 127 characters). */
  @Column({ type: 'varchar', length: 127 })
  description: string;

  /** In fen. */
  @Column({ type: 'int' })
  amountFen: number;

  @Column({ type: 'varchar', length: 16, default: 'created' })
  state: PayOrderState;

  @Column({ type: 'varchar', length: 64, nullable: true })
  prepayId: string | null;

  /** WeChat Pay's 微信支付订单号, from the paid notification. */
  @Column({ type: 'varchar', length: 32, nullable: true })
  transactionId: string | null;

  /** Ours, one per order (a refund retried with it is the same refund to WeChat Pay). */
  @Column({ type: 'varchar', length: 64, nullable: true })
  outRefundNo: string | null;

  @Column({ type: 'varchar', length: 32, nullable: true })
  refundId: string | null;

  /** The last refund problem (the API's code and message), for the orders screen. */
  @Column({ type: 'varchar', length: 255, nullable: true })
  refundError: string | null;

  @Column({ type: 'datetime', precision: 3, nullable: true })
  paidAt: Date | null;

  @Column({ type: 'datetime', precision: 3, nullable: true })
  refundRequestedAt: Date | null;

  @Column({ type: 'datetime', precision: 3, nullable: true })
  refundedAt: Date | null;

  @Column({ type: 'datetime', precision: 3 })
  createdAt: Date;

  @Column({ type: 'datetime', precision: 3 })
  updatedAt: Date;
}
