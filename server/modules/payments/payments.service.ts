import { randomBytes } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import type { PayOrderState } from '../../../entities/pay-order.entity';
import type { Clock } from '../../adapters/clock';
import type { Logger } from '../../adapters/logger';
import { PayApiError, type JsapiPayParams, type WechatPayClient } from '../../adapters/wechat-pay.client';
import { beginWriting, executeCountingRows, fromSqlDate, insertReturningId, isMysqlManager, toSqlDate } from '../../db/sql';
import type { Transactor } from '../../db/transaction';
import { decryptPayResource, verifyPayNotification, type PayNotificationHeaders, type PayResource } from '../../wechat/pay-notification';
import { ProtocolError } from '../../wechat/protocol-error';
import type { AuditActor, AuditService } from '../audit/audit.service';
import type { InteractionDraft, RecordResult } from '../interactions/interactions.service';

/**
 * WeChat Pay orders (issue 15 §7): JSAPI prepay, the paid and refunded notifications, refunds.
 * Every state move is one guarded UPDATE (`WHERE state = <from>`): WeChat Pay delivers a
 * notification until it is answered 200/204, for up to 24 hours, and a delivery that lost a race
 * with another (two instances, a retry while the first is still committing) changes nothing.
 * A notification is answered only after its change is committed.
 */

export interface PaymentsServiceDeps {
  dataSource: DataSource;
  transactor: Transactor;
  clock: Clock;
  logger: Logger;
  audit: AuditService;
  /** null: payments are not configured (no merchant, not sandbox mode). */
  client: WechatPayClient | null;
  /** The Pay client's configuration as verifying needs it: serial or key id → public key PEM. */
  verify: { mchId: string; apiV3Key: string; publicKeys: ReadonlyMap<string, string>; maxAgeSeconds: number } | null;
  /** `<PUBLIC_BASE_URL>/pay/notify`: where WeChat Pay sends both notifications. */
  notifyUrl: string;
  /** `<PUBLIC_BASE_URL>/e/offer`: a product's offer page is `<offerBaseUrl>/<id>`. */
  offerBaseUrl: string;
  interactions: { recordInteraction(manager: EntityManager, draft: InteractionDraft): Promise<RecordResult> };
  /** After a payment interaction is committed: the reactions run (lifecycle → revenue). */
  onRecorded?: () => void;
  /**
   * What the order was for learns it is paid, inside the transaction that marks it paid (a paid
   * registration becomes registered: compose.ts wires the exhibitions, which payments does not
   * import). `refund`: what was bought is gone (a registration cancelled meanwhile), so the
   * payment is refunded after the commit.
   */
  onOrderPaid?: (manager: EntityManager, order: PayOrderView) => Promise<{ refund: boolean }>;
  /** An unpaid order was closed, in the closing transaction (its unpaid registration gives its seat back). */
  onOrderClosed?: (manager: EntityManager, order: PayOrderView) => Promise<void>;
}

export interface PayOrderView {
  id: number;
  outTradeNo: string;
  contactId: number;
  productId: number | null;
  refType: string | null;
  refId: string | null;
  description: string;
  amountFen: number;
  state: PayOrderState;
  transactionId: string | null;
  prepayId: string | null;
  outRefundNo: string | null;
  refundError: string | null;
  paidAt: string | null;
  refundedAt: string | null;
  createdAt: string;
  updatedAt: string;
}

/** A product as the buyer's offer page shows it. */
export interface PublicProductView {
  id: number;
  name: string;
  priceFen: number;
  oncePerContact: boolean;
}

/**
 * Who pays with JSAPI: a contact's openid of an app bound to the merchant, the Official Account's
 * (web OAuth gave it: payerOf) or the mini-program's (its session's: the pay sheet opens there).
 */
export interface Payer {
  contactId: number;
  openid: string;
  appId: string;
}

/** A buyer's order with its pay-sign parameters, or why there is none. */
export type BuyResult =
  | { ok: true; order: PayOrderView; payParams: JsapiPayParams }
  | { ok: false; reason: 'product_not_found' | 'openid_required' | 'already_purchased' };

interface OrderDraft {
  contactId: number;
  openid: string;
  appId: string;
  productId: number | null;
  ref: { type: string; id: string } | null;
  description: string;
  amountFen: number;
}

interface ProductRow {
  id: number | string;
  name: string;
  price_fen: number | string;
  active: number | boolean;
  once_per_contact: number | boolean;
}

const PRODUCT_COLUMNS = 'id, name, price_fen, active, once_per_contact';

export interface PayProductView {
  id: number;
  name: string;
  priceFen: number;
  active: boolean;
  oncePerContact: boolean;
  /** The offer page that sells it, for a journey's push or a welcome message. */
  offerUrl: string;
}

/** What `/pay/notify` answers: 204 once committed; else a status and WeChat Pay's `{code: 'FAIL', message}`. */
export interface PayNotifyAnswer {
  status: number;
  body: { code: 'FAIL'; message: string } | null;
}

export class PaymentsNotConfiguredError extends Error {
  constructor() {
    super('WeChat Pay is not configured (set WECHATPAY_* or run in sandbox mode)');
  }
}
export class PayOrderNotFoundError extends Error {}
export class PayProductNotFoundError extends Error {}
export class PayOrderStateError extends Error {
  constructor(readonly state: PayOrderState) {
    super(`the order is ${state}`);
  }
}
export class InvalidOrderError extends Error {}

/** A failure the notification's answer names; thrown inside the transaction so nothing commits. */
class NotifyRefusal extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

interface OrderRow {
  id: number | string;
  out_trade_no: string;
  contact_id: number | string;
  product_id: number | string | null;
  ref_type: string | null;
  ref_id: string | null;
  description: string;
  amount_fen: number | string;
  state: PayOrderState;
  transaction_id: string | null;
  prepay_id: string | null;
  out_refund_no: string | null;
  refund_error: string | null;
  paid_at: unknown;
  refunded_at: unknown;
  created_at: unknown;
  updated_at: unknown;
}

/**
 * A JSAPI prepay_id is valid for two hours: after that the payer's sheet cannot open, so an
 * unpaid order is closed at WeChat Pay (which then refuses to take the money) and here.
 */
export const UNPAID_ORDER_CLOSE_MS = 2 * 60 * 60 * 1000;
const CLOSE_BATCH = 100;

const ORDER_COLUMNS =
  'id, out_trade_no, contact_id, product_id, ref_type, ref_id, description, amount_fen, state, transaction_id, prepay_id, ' +
  'out_refund_no, refund_error, paid_at, refunded_at, created_at, updated_at';

export class PaymentsService {
  constructor(private readonly deps: PaymentsServiceDeps) {}

  get enabled(): boolean {
    return this.deps.client !== null;
  }

  async listProducts(): Promise<PayProductView[]> {
    const rows = await this.deps.dataSource.query<ProductRow[]>(`SELECT ${PRODUCT_COLUMNS} FROM pay_products ORDER BY id`);
    return rows.map((r) => ({
      id: Number(r.id),
      name: r.name,
      priceFen: Number(r.price_fen),
      active: Boolean(Number(r.active)),
      oncePerContact: Boolean(Number(r.once_per_contact)),
      offerUrl: `${this.deps.offerBaseUrl}/${Number(r.id)}`,
    }));
  }

  async createProduct(p: {
    name: string;
    priceFen: number;
    active?: boolean;
    oncePerContact?: boolean;
    actor: AuditActor;
  }): Promise<PayProductView> {
    if (!Number.isInteger(p.priceFen) || p.priceFen < 1) throw new InvalidOrderError('the price must be a whole number of fen, at least 1');
    const now = toSqlDate(this.deps.clock.now());
    const id = await this.deps.transactor.run(async (m) => {
      const created = await insertReturningId(
        m,
        'INSERT INTO pay_products (name, price_fen, active, once_per_contact, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)',
        [p.name, p.priceFen, p.active === false ? 0 : 1, p.oncePerContact === true ? 1 : 0, now, now],
      );
      await this.deps.audit.record({
        manager: m,
        operatorId: p.actor.operatorId,
        ip: p.actor.ip,
        action: 'pay_product.create',
        targetType: 'pay_product',
        targetId: created,
        detail: { name: p.name, priceFen: p.priceFen, oncePerContact: p.oncePerContact === true },
      });
      return created;
    });
    return {
      id,
      name: p.name,
      priceFen: p.priceFen,
      active: p.active !== false,
      oncePerContact: p.oncePerContact === true,
      offerUrl: `${this.deps.offerBaseUrl}/${id}`,
    };
  }

  /**
   * A JSAPI order for a product (its price) or for a reference (an amount the caller gives), then
   * prepay. The order row is committed first: should prepay fail or its answer be lost, the same
   * out_trade_no is sent again by `payParamsOf` and WeChat Pay answers the same prepay_id.
   */
  async createJsapiOrder(p: {
    contactId: number;
    openid: string;
    /** The openid's app (a bound mini-program's); default the merchant's. */
    appId?: string;
    productId?: number;
    ref?: { type: string; id: string; amountFen: number; description: string };
  }): Promise<{ order: PayOrderView; payParams: JsapiPayParams }> {
    const client = this.requireClient();
    let amountFen: number;
    let description: string;
    let productId: number | null = null;
    if (p.productId !== undefined) {
      const [product] = await this.deps.dataSource.query<
        {
          name: string;
          price_fen: number | string;
          active: number | boolean;
        }[]
      >('SELECT id, name, price_fen, active FROM pay_products WHERE id = ?', [p.productId]);
      if (!product || !Number(product.active)) throw new PayProductNotFoundError(`no active product ${p.productId}`);
      amountFen = Number(product.price_fen);
      description = product.name;
      productId = p.productId;
    } else if (p.ref) {
      amountFen = p.ref.amountFen;
      description = p.ref.description;
    } else {
      throw new InvalidOrderError('an order is for a product or a reference');
    }
    const id = await this.insertOrder(this.deps.dataSource.manager, {
      contactId: p.contactId,
      openid: p.openid,
      appId: p.appId ?? client.appId,
      productId,
      ref: p.ref ?? null,
      description,
      amountFen,
    });
    const payParams = await this.payParamsOf(id);
    return { order: await this.getOrder(id), payParams };
  }

  /** What the offer page shows of a product; null when there is none or it is inactive. */
  async getPublicProduct(id: number): Promise<PublicProductView | null> {
    const [row] = await this.deps.dataSource.query<ProductRow[]>(`SELECT ${PRODUCT_COLUMNS} FROM pay_products WHERE id = ?`, [id]);
    if (!row || !Number(row.active)) return null;
    return { id: Number(row.id), name: row.name, priceFen: Number(row.price_fen), oncePerContact: Boolean(Number(row.once_per_contact)) };
  }

  /**
   * The contact's payer identity: its openid of the Pay appid (web OAuth gave it), on the contact
   * or the one it was merged into; null without one (outside WeChat) or without payments.
   */
  async payerOf(contactId: number): Promise<Payer | null> {
    const client = this.deps.client;
    if (!client) return null;
    const [contact] = await this.deps.dataSource.query<{ id: number | string; merged_into_id: number | string | null }[]>(
      'SELECT id, merged_into_id FROM contacts WHERE id = ?',
      [contactId],
    );
    const survivor = contact ? Number(contact.merged_into_id ?? contact.id) : contactId;
    const [identity] = await this.deps.dataSource.query<{ value: string }[]>(
      "SELECT value FROM contact_identities WHERE contact_id = ? AND kind = 'oa_openid' AND app_id = ? ORDER BY id LIMIT 1",
      [survivor, client.appId],
    );
    return identity ? { contactId: survivor, openid: identity.value, appId: client.appId } : null;
  }

  /**
   * The newest unpaid order made for a reference (a paid registration's) in one app (default the
   * merchant's), or null: an order made in the mini-program cannot be paid on the H5 page, nor the
   * other way round (the pay-sign is over its appid).
   */
  async openOrderFor(ref: { type: string; id: string }, appId?: string): Promise<number | null> {
    const [order] = await this.deps.dataSource.query<{ id: number | string }[]>(
      "SELECT id FROM pay_orders WHERE ref_type = ? AND ref_id = ? AND app_id = ? AND state = 'created' ORDER BY id DESC LIMIT 1",
      [ref.type, ref.id, appId ?? this.deps.client?.appId ?? ''],
    );
    return order ? Number(order.id) : null;
  }

  /**
   * A visitor of the offer page buys a product with JSAPI: the order is for the contact's openid
   * of the Pay appid (web OAuth gave it; without one there is no JSAPI payment). A once-per-person
   * product (the trial offer, 一元体验) goes through the contact's claim row, locked: a second tap
   * (or a second phone) while the first order is unpaid gets that same order again, whose prepay
   * WeChat Pay answers with the same prepay_id; a paid one refuses with `already_purchased`; a
   * closed or refunded one lets a new order take the claim.
   */
  async buyProduct(p: { contactId: number; productId: number }): Promise<BuyResult> {
    const client = this.requireClient();
    const product = await this.getPublicProduct(p.productId);
    if (!product) return { ok: false, reason: 'product_not_found' };
    const [contact] = await this.deps.dataSource.query<{ id: number | string; merged_into_id: number | string | null }[]>(
      'SELECT id, merged_into_id FROM contacts WHERE id = ?',
      [p.contactId],
    );
    const contactId = contact ? Number(contact.merged_into_id ?? contact.id) : p.contactId;
    const [identity] = await this.deps.dataSource.query<{ value: string }[]>(
      "SELECT value FROM contact_identities WHERE contact_id = ? AND kind = 'oa_openid' AND app_id = ? ORDER BY id LIMIT 1",
      [contactId, client.appId],
    );
    if (!identity) return { ok: false, reason: 'openid_required' };
    const draft = {
      contactId,
      openid: identity.value,
      appId: client.appId,
      productId: product.id,
      ref: null,
      description: product.name,
      amountFen: product.priceFen,
    };
    let orderId: number;
    if (!product.oncePerContact) {
      orderId = await this.insertOrder(this.deps.dataSource.manager, draft);
    } else {
      const claimed = await this.deps.transactor.runRetrying(async (m): Promise<number | null> => {
        await beginWriting(m);
        const mysql = isMysqlManager(m);
        await m.query(
          `${mysql ? 'INSERT IGNORE' : 'INSERT OR IGNORE'} INTO pay_product_claims (product_id, contact_id, order_id, created_at) VALUES (?, ?, NULL, ?)`,
          [product.id, contactId, toSqlDate(this.deps.clock.now())],
        );
        const [claim] = await m.query<{ id: number | string; order_id: number | string | null }[]>(
          `SELECT id, order_id FROM pay_product_claims WHERE product_id = ? AND contact_id = ?${mysql ? ' FOR UPDATE' : ''}`,
          [product.id, contactId],
        );
        if (claim.order_id !== null) {
          const [order] = await m.query<{ state: PayOrderState }[]>('SELECT state FROM pay_orders WHERE id = ?', [claim.order_id]);
          if (order?.state === 'created') return Number(claim.order_id);
          if (order?.state === 'paid' || order?.state === 'refunding') return null;
        }
        const created = await this.insertOrder(m, draft);
        await m.query('UPDATE pay_product_claims SET order_id = ? WHERE id = ?', [created, claim.id]);
        return created;
      });
      if (claimed === null) return { ok: false, reason: 'already_purchased' };
      orderId = claimed;
    }
    try {
      const payParams = await this.payParamsOf(orderId);
      return { ok: true, order: await this.getOrder(orderId), payParams };
    } catch (error) {
      // Paid between the claim and the prepay (its notification came first): bought already.
      if (error instanceof PayOrderStateError) return { ok: false, reason: 'already_purchased' };
      throw error;
    }
  }

  /** The order as its buyer's page polls it; null when it is not this contact's (or a merged one's). */
  async getOrderOf(p: { contactId: number; orderId: number }): Promise<PayOrderView | null> {
    const [row] = await this.deps.dataSource.query<{ contact_id: number | string; merged_into_id: number | string | null }[]>(
      'SELECT o.contact_id, c.merged_into_id FROM pay_orders o LEFT JOIN contacts c ON c.id = o.contact_id WHERE o.id = ?',
      [p.orderId],
    );
    if (!row) return null;
    const [visitor] = await this.deps.dataSource.query<{ merged_into_id: number | string | null }[]>(
      'SELECT merged_into_id FROM contacts WHERE id = ?',
      [p.contactId],
    );
    const owner = Number(row.merged_into_id ?? row.contact_id);
    const asker = Number(visitor?.merged_into_id ?? p.contactId);
    return owner === asker ? this.getOrder(p.orderId) : null;
  }

  private async insertOrder(m: EntityManager, p: OrderDraft): Promise<number> {
    if (!Number.isInteger(p.amountFen) || p.amountFen < 1)
      throw new InvalidOrderError('the amount must be a whole number of fen, at least 1');
    const now = this.deps.clock.now();
    // 商户订单号: 6-32 of [A-Za-z0-9_-|*]; the date helps whoever reads a statement.
    const outTradeNo = `FW${now.toISOString().slice(0, 10).replace(/-/g, '')}${randomBytes(10).toString('hex')}`;
    return insertReturningId(
      m,
      'INSERT INTO pay_orders (out_trade_no, contact_id, openid, app_id, product_id, ref_type, ref_id, description, amount_fen, state, created_at, updated_at) ' +
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'created', ?, ?)",
      [
        outTradeNo,
        p.contactId,
        p.openid,
        p.appId,
        p.productId,
        p.ref?.type ?? null,
        p.ref?.id ?? null,
        p.description.slice(0, 127),
        p.amountFen,
        toSqlDate(now),
        toSqlDate(now),
      ],
    );
  }

  /** Prepay (again) for an unpaid order: the client's pay-sign parameters. */
  async payParamsOf(orderId: number): Promise<JsapiPayParams> {
    const client = this.requireClient();
    const [row] = await this.deps.dataSource.query<
      {
        out_trade_no: string;
        openid: string;
        app_id: string;
        description: string;
        amount_fen: number | string;
        state: PayOrderState;
      }[]
    >('SELECT out_trade_no, openid, app_id, description, amount_fen, state FROM pay_orders WHERE id = ?', [orderId]);
    if (!row) throw new PayOrderNotFoundError(`no order ${orderId}`);
    if (row.state !== 'created') throw new PayOrderStateError(row.state);
    const params = await client.prepayJsapi({
      outTradeNo: row.out_trade_no,
      description: row.description,
      notifyUrl: this.deps.notifyUrl,
      totalFen: Number(row.amount_fen),
      openid: row.openid,
      appId: row.app_id,
    });
    const prepayId = params.package.replace(/^prepay_id=/, '');
    await this.deps.dataSource.query('UPDATE pay_orders SET prepay_id = ?, updated_at = ? WHERE id = ?', [
      prepayId,
      toSqlDate(this.deps.clock.now()),
      orderId,
    ]);
    return params;
  }

  async getOrder(id: number): Promise<PayOrderView> {
    const [row] = await this.deps.dataSource.query<OrderRow[]>(`SELECT ${ORDER_COLUMNS} FROM pay_orders WHERE id = ?`, [id]);
    if (!row) throw new PayOrderNotFoundError(`no order ${id}`);
    return viewOf(row);
  }

  /** Newest first, keyset paged by id. */
  async listOrders(p: {
    state?: PayOrderState;
    before?: number;
    limit: number;
  }): Promise<{ items: PayOrderView[]; nextBefore: number | null }> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (p.state) {
      where.push('state = ?');
      params.push(p.state);
    }
    if (p.before !== undefined) {
      where.push('id < ?');
      params.push(p.before);
    }
    const rows = await this.deps.dataSource.query<OrderRow[]>(
      `SELECT ${ORDER_COLUMNS} FROM pay_orders ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ${p.limit + 1}`,
      params,
    );
    const items = rows.slice(0, p.limit).map(viewOf);
    return { items, nextBefore: rows.length > p.limit ? items[items.length - 1].id : null };
  }

  /**
   * Refund a paid order in full. paid → refunding is committed (with its audit row) before the
   * request leaves; the refund number is fixed per order, so a second click, or a retry after a
   * lost answer, is the same refund to WeChat Pay and never a second one. refunding → refunded
   * comes with REFUND.SUCCESS.
   */
  async refund(p: { orderId: number; actor: AuditActor; reason?: string }): Promise<PayOrderView> {
    const client = this.requireClient();
    const now = this.deps.clock.now();
    const order = await this.deps.transactor.run(async (m) => {
      const [row] = await m.query<OrderRow[]>(`SELECT ${ORDER_COLUMNS} FROM pay_orders WHERE id = ?`, [p.orderId]);
      if (!row) throw new PayOrderNotFoundError(`no order ${p.orderId}`);
      const outRefundNo = `R${row.out_trade_no}`;
      const moved = await executeCountingRows(
        m,
        "UPDATE pay_orders SET state = 'refunding', out_refund_no = ?, refund_requested_at = ?, refund_error = NULL, updated_at = ? WHERE id = ? AND state = 'paid'",
        [outRefundNo, toSqlDate(now), toSqlDate(now), p.orderId],
      );
      // Already refunding: the request is sent again with the same number (its answer may have been lost).
      if (moved === 0 && row.state !== 'refunding') throw new PayOrderStateError(row.state);
      await this.deps.audit.record({
        manager: m,
        operatorId: p.actor.operatorId,
        ip: p.actor.ip,
        action: 'pay_order.refund',
        targetType: 'pay_order',
        targetId: p.orderId,
        detail: {
          outTradeNo: row.out_trade_no,
          amountFen: Number(row.amount_fen),
          retry: moved === 0,
          ...(p.reason ? { reason: p.reason } : {}),
        },
      });
      return { ...viewOf(row), outRefundNo: row.out_refund_no ?? outRefundNo };
    });
    try {
      const answer = await client.refund({
        outTradeNo: order.outTradeNo,
        outRefundNo: order.outRefundNo ?? `R${order.outTradeNo}`,
        totalFen: order.amountFen,
        refundFen: order.amountFen,
        notifyUrl: this.deps.notifyUrl,
        ...(p.reason ? { reason: p.reason } : {}),
      });
      await this.deps.dataSource.query('UPDATE pay_orders SET refund_id = COALESCE(refund_id, ?) WHERE id = ?', [
        answer.refundId || null,
        p.orderId,
      ]);
    } catch (error) {
      const message = (error instanceof Error ? error.message : String(error)).slice(0, 255);
      await this.deps.dataSource.query('UPDATE pay_orders SET refund_error = ? WHERE id = ?', [message, p.orderId]);
      throw error;
    }
    return this.getOrder(p.orderId);
  }

  /**
   * Refunds what was paid for a reference (a cancelled paid registration): its paid or refunding
   * order, as `refund` does; null when nothing was paid for it.
   */
  async refundFor(p: { ref: { type: string; id: string }; actor: AuditActor; reason?: string }): Promise<PayOrderView | null> {
    const [order] = await this.deps.dataSource.query<{ id: number | string }[]>(
      "SELECT id FROM pay_orders WHERE ref_type = ? AND ref_id = ? AND state IN ('paid', 'refunding') ORDER BY id DESC LIMIT 1",
      [p.ref.type, p.ref.id],
    );
    if (!order) return null;
    return this.refund({ orderId: Number(order.id), actor: p.actor, ...(p.reason ? { reason: p.reason } : {}) });
  }

  /**
   * Closes unpaid orders past UNPAID_ORDER_CLOSE_MS: WeChat Pay's order first (关闭订单), then
   * created → closed. An order paid meanwhile answers ORDERPAID and stays created: its paid
   * notification is on its way, and it must find the order open. Returns how many were closed.
   */
  async closeExpired(): Promise<number> {
    const client = this.deps.client;
    if (!client) return 0;
    const cutoff = new Date(this.deps.clock.now().getTime() - UNPAID_ORDER_CLOSE_MS);
    const due = await this.deps.dataSource.query<{ id: number | string; out_trade_no: string }[]>(
      `SELECT id, out_trade_no FROM pay_orders WHERE state = 'created' AND created_at < ? ORDER BY created_at LIMIT ${CLOSE_BATCH}`,
      [toSqlDate(cutoff)],
    );
    let closed = 0;
    for (const order of due) {
      try {
        await client.close(order.out_trade_no);
      } catch (error) {
        this.deps.logger.warn('pay order not closed', {
          outTradeNo: order.out_trade_no,
          code: error instanceof PayApiError ? error.code : 'error',
          reason: error instanceof Error ? error.message : String(error),
        });
        continue;
      }
      // The close and what it releases (an unpaid registration's seat) commit together.
      closed += await this.deps.transactor.runRetrying(async (m) => {
        const moved = await executeCountingRows(
          m,
          "UPDATE pay_orders SET state = 'closed', updated_at = ? WHERE id = ? AND state = 'created'",
          [toSqlDate(this.deps.clock.now()), order.id],
        );
        if (moved === 1 && this.deps.onOrderClosed) {
          const [row] = await m.query<OrderRow[]>(`SELECT ${ORDER_COLUMNS} FROM pay_orders WHERE id = ?`, [order.id]);
          await this.deps.onOrderClosed(m, viewOf(row));
        }
        return moved;
      });
    }
    return closed;
  }

  /**
   * `/pay/notify`: the signature over the raw body (platform certificate or WeChat Pay public
   * key), the timestamp's age, the resource decrypted with its tag checked, then the order's move,
   * committed before the answer. A delivery of something already applied answers 204 again.
   */
  async receiveNotification(rawBody: string, headers: PayNotificationHeaders): Promise<PayNotifyAnswer> {
    const verify = this.deps.verify;
    if (!verify) return fail(404, 'payments are not configured');
    let resource: Record<string, unknown>;
    let eventType: string;
    try {
      verifyPayNotification({
        rawBody,
        headers,
        publicKeys: verify.publicKeys,
        nowSeconds: Math.floor(this.deps.clock.now().getTime() / 1000),
        maxAgeSeconds: verify.maxAgeSeconds,
      });
      const envelope = parseObject(rawBody);
      const encrypted = envelope?.resource as PayResource | undefined;
      if (!envelope || typeof envelope.event_type !== 'string' || !encrypted || typeof encrypted !== 'object') {
        return fail(400, 'the notification has no event_type or resource');
      }
      eventType = envelope.event_type;
      const plain = parseObject(decryptPayResource({ apiV3Key: verify.apiV3Key, resource: encrypted }));
      if (!plain) return fail(400, 'the resource is not a JSON object');
      resource = plain;
    } catch (error) {
      if (!(error instanceof ProtocolError)) throw error;
      this.deps.logger.warn('pay notification refused', { code: error.code, reason: error.message });
      return fail(error.code === 'pay_decrypt_failed' ? 400 : 401, error.message);
    }
    if (resource.mchid !== undefined && resource.mchid !== verify.mchId) return fail(400, 'the notification is for another merchant');
    try {
      switch (eventType) {
        case 'TRANSACTION.SUCCESS':
          await this.applyPaid(resource);
          break;
        case 'REFUND.SUCCESS':
          await this.applyRefund(resource, 'refunded');
          break;
        case 'REFUND.ABNORMAL':
        case 'REFUND.CLOSED':
          await this.applyRefund(resource, 'failed');
          break;
        default:
          // Events Flywheel does not act on are acknowledged, or WeChat Pay would retry them for a day.
          this.deps.logger.info('pay notification ignored', { eventType });
      }
    } catch (error) {
      if (error instanceof NotifyRefusal) {
        this.deps.logger.warn('pay notification not applied', { eventType, reason: error.message });
        return fail(error.status, error.message);
      }
      throw error;
    }
    return { status: 204, body: null };
  }

  private async applyPaid(tx: Record<string, unknown>): Promise<void> {
    const outTradeNo = stringOf(tx.out_trade_no);
    const transactionId = stringOf(tx.transaction_id);
    const amount = tx.amount as { total?: unknown } | undefined;
    if (!outTradeNo || !transactionId || tx.trade_state !== 'SUCCESS') throw new NotifyRefusal(400, 'not a successful transaction');
    const paidAt = parseTime(tx.success_time) ?? this.deps.clock.now();
    let refundOrderId: number | null = null;
    const recorded = await this.deps.transactor.runRetrying(async (m) => {
      refundOrderId = null;
      const [row] = await m.query<OrderRow[]>(`SELECT ${ORDER_COLUMNS} FROM pay_orders WHERE out_trade_no = ?`, [outTradeNo]);
      if (!row) throw new NotifyRefusal(404, `no order ${outTradeNo}`);
      if (Number(amount?.total) !== Number(row.amount_fen)) {
        // Never marked paid for another amount; WeChat Pay keeps retrying while someone looks.
        this.deps.logger.error('pay notification amount differs from the order', { outTradeNo, orderId: Number(row.id) });
        throw new NotifyRefusal(400, 'amount does not match the order');
      }
      const now = toSqlDate(this.deps.clock.now());
      const moved = await executeCountingRows(
        m,
        "UPDATE pay_orders SET state = 'paid', transaction_id = ?, paid_at = ?, updated_at = ? WHERE id = ? AND state = 'created'",
        [transactionId, toSqlDate(paidAt), now, row.id],
      );
      if (moved === 0) {
        // Applied before (a repeated delivery), or paid after it was closed: that needs a person.
        if (row.transaction_id !== transactionId) {
          this.deps.logger.error('pay notification for an order that is not open', { outTradeNo, state: row.state });
        }
        return false;
      }
      const result = await this.deps.interactions.recordInteraction(m, {
        type: 'payment',
        channel: 'pay',
        occurredAt: paidAt,
        detail: {
          orderId: Number(row.id),
          outTradeNo,
          transactionId,
          amountFen: Number(row.amount_fen),
          description: row.description,
          productId: row.product_id === null ? null : Number(row.product_id),
          refType: row.ref_type,
          refId: row.ref_id,
        },
        identity: null,
        contactId: Number(row.contact_id),
        dedupeKey: `pay:${transactionId}`,
        ref: { type: 'order', id: String(row.id) },
      });
      if (this.deps.onOrderPaid) {
        const paid = viewOf({ ...row, state: 'paid', transaction_id: transactionId, paid_at: toSqlDate(paidAt) });
        if ((await this.deps.onOrderPaid(m, paid)).refund) refundOrderId = Number(row.id);
      }
      return result.recorded;
    });
    if (recorded) this.deps.onRecorded?.();
    if (refundOrderId !== null) await this.refundUnwanted(refundOrderId);
  }

  /**
   * A payment for something no longer there (a registration cancelled or released before the
   * money came): refunded in full, as the system's act. A failure leaves the order refunding with
   * its error on the orders screen, where an operator asks again; the notification is still
   * answered 204 (its change is committed).
   */
  private async refundUnwanted(orderId: number): Promise<void> {
    try {
      await this.refund({ orderId, actor: { operatorId: null, ip: null }, reason: '报名已取消，款项原路退回' });
    } catch (error) {
      this.deps.logger.error('refund of an unwanted payment failed', {
        orderId,
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }

  private async applyRefund(refund: Record<string, unknown>, outcome: 'refunded' | 'failed'): Promise<void> {
    const outTradeNo = stringOf(refund.out_trade_no);
    const outRefundNo = stringOf(refund.out_refund_no);
    if (!outTradeNo || !outRefundNo) throw new NotifyRefusal(400, 'not a refund');
    const now = this.deps.clock.now();
    await this.deps.transactor.run(async (m) => {
      const [row] = await m.query<
        {
          id: number | string;
          state: PayOrderState;
          out_refund_no: string | null;
        }[]
      >('SELECT id, state, out_refund_no FROM pay_orders WHERE out_trade_no = ?', [outTradeNo]);
      if (!row || row.out_refund_no !== outRefundNo) throw new NotifyRefusal(404, `no refund ${outRefundNo}`);
      if (outcome === 'refunded') {
        await executeCountingRows(
          m,
          "UPDATE pay_orders SET state = 'refunded', refund_id = COALESCE(refund_id, ?), refunded_at = ?, updated_at = ? WHERE id = ? AND state = 'refunding'",
          [stringOf(refund.refund_id), toSqlDate(parseTime(refund.success_time) ?? now), toSqlDate(now), row.id],
        );
      } else {
        // The refund did not go through (a closed card, ...): the order stays refunding, its error shown for a person.
        await executeCountingRows(m, "UPDATE pay_orders SET refund_error = ?, updated_at = ? WHERE id = ? AND state = 'refunding'", [
          `refund ${stringOf(refund.refund_status) ?? 'failed'}`,
          toSqlDate(now),
          row.id,
        ]);
      }
    });
  }

  private requireClient(): WechatPayClient {
    if (!this.deps.client) throw new PaymentsNotConfiguredError();
    return this.deps.client;
  }
}

function fail(status: number, message: string): PayNotifyAnswer {
  return { status, body: { code: 'FAIL', message } };
}

function parseObject(text: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

function stringOf(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

/** rfc3339 (`2026-12-07T14:00:00+08:00`), or null. */
function parseTime(value: unknown): Date | null {
  if (typeof value !== 'string') return null;
  const at = new Date(value);
  return Number.isNaN(at.getTime()) ? null : at;
}

function viewOf(row: OrderRow): PayOrderView {
  const iso = (value: unknown): string | null => (value === null || value === undefined ? null : fromSqlDate(value).toISOString());
  return {
    id: Number(row.id),
    outTradeNo: row.out_trade_no,
    contactId: Number(row.contact_id),
    productId: row.product_id === null ? null : Number(row.product_id),
    refType: row.ref_type,
    refId: row.ref_id,
    description: row.description,
    amountFen: Number(row.amount_fen),
    state: row.state,
    transactionId: row.transaction_id,
    prepayId: row.prepay_id,
    outRefundNo: row.out_refund_no,
    refundError: row.refund_error,
    paidAt: iso(row.paid_at),
    refundedAt: iso(row.refunded_at),
    createdAt: iso(row.created_at) as string,
    updatedAt: iso(row.updated_at) as string,
  };
}
