import { AuditLog } from '../../../entities/audit-log.entity';
import { Contact } from '../../../entities/contact.entity';
import { Interaction } from '../../../entities/interaction.entity';
import { PayOrder } from '../../../entities/pay-order.entity';
import type { SandboxPayKeys } from '../../../server/adapters/sandbox/sandbox-pay-keys';
import type { SandboxPay } from '../../../server/adapters/sandbox/sandbox-pay';
import { jsapiPaySignMessage, signPayMessage, verifyPayMessage } from '../../../server/wechat/pay-signing';
import { describeEachDatabase } from '../../support/database';
import { sandboxPayKeysWithCertificate } from '../../support/pay-keys';
import { recordFollower } from '../../support/followers';
import { startTestStack, type TestStack } from '../../support/test-stack';

let keys: SandboxPayKeys | null = null;
/** One set for the file: RSA keys and a certificate take a moment to make. */
const payKeys = (appId: string): SandboxPayKeys => (keys ??= sandboxPayKeysWithCertificate(appId));

describeEachDatabase('WeChat Pay', (db) => {
  let stack: TestStack;
  let pay: SandboxPay;
  beforeEach(async () => {
    stack = await startTestStack(db(), {}, { payKeys: payKeys('wxsandbox0000000001') });
    if (!stack.sandbox.pay) throw new Error('the sandbox serves no Pay API');
    pay = stack.sandbox.pay;
  });
  afterEach(async () => {
    await pay.settled();
    await stack.close();
  });

  let seq = 0;
  /** A follower on the timeline: the contact and openid an order is for. */
  const follower = () => recordFollower(stack);
  const trial = () => stack.services.payments.createProduct({ name: '一元体验', priceFen: 100, actor: { operatorId: null, ip: null } });
  const newOrder = async () => {
    const who = await follower();
    const product = await trial();
    const created = await stack.services.payments.createJsapiOrder({ ...who, productId: product.id });
    return { ...who, ...created };
  };
  const orderRow = (id: number) => db().dataSource.manager.findOneByOrFail(PayOrder, { id });
  const payments = (orderId: number) =>
    db().dataSource.manager.find(Interaction, { where: { type: 'payment', refType: 'order', refId: String(orderId) } });
  /** The notify URL Flywheel gives WeChat Pay (the sandbox delivers to its path on Flywheel's loopback origin). */
  const notifyUrl = 'http://localhost:3000/pay/notify';
  /** A paid notification for `outTradeNo` as the sandbox would send it, not yet delivered. */
  const paidNotification = (outTradeNo: string, options: { timestamp?: number; signWith?: 'public_key' | 'certificate' } = {}) => {
    const order = pay.orders.get(outTradeNo);
    if (!order) throw new Error(`the sandbox has no order ${outTradeNo}`);
    return pay.notification({
      eventType: 'TRANSACTION.SUCCESS',
      summary: '支付成功',
      originalType: 'transaction',
      resource: pay.transactionResource({
        ...order,
        transactionId: '4200000000202612070000000001',
        successTime: '2026-12-07T14:00:00+08:00',
      }),
      signWith: options.signWith ?? 'public_key',
      ...(options.timestamp === undefined ? {} : { timestamp: options.timestamp }),
    });
  };
  const adminToken = async (role: 'admin' | 'operator') => {
    const username = `${role}-${seq++}`;
    const password = `${username}-password`;
    const created = await stack.services.operators.createOperator({
      username,
      password,
      role,
      wecomUserId: null,
      actor: { operatorId: null, ip: null },
    });
    if (!created.ok) throw new Error('operator not created');
    const login = await stack.services.operators.login({ username, password, ip: '127.0.0.1' });
    if (!login.ok) throw new Error('no login');
    return login.token;
  };

  it('prepays through the sandbox and answers pay-sign parameters signed with the merchant key', async () => {
    const { order, payParams, openid } = await newOrder();
    const sandboxOrder = pay.orders.get(order.outTradeNo);
    expect(sandboxOrder).toMatchObject({ total: 100, openid, tradeState: 'NOTPAY', notifyUrl });
    expect(order).toMatchObject({ state: 'created', amountFen: 100, description: '一元体验', prepayId: sandboxOrder?.prepayId });
    expect(payParams).toMatchObject({
      appId: stack.config.officialAccount.appId,
      package: `prepay_id=${sandboxOrder?.prepayId}`,
      signType: 'RSA',
    });
    const signKeys = payKeys('');
    expect(verifyPayMessage(signKeys.merchantPublicKeyPem, jsapiPaySignMessage(payParams), payParams.paySign)).toBe(true);
    expect(
      verifyPayMessage(signKeys.merchantPublicKeyPem, jsapiPaySignMessage({ ...payParams, package: 'prepay_id=other' }), payParams.paySign),
    ).toBe(false);

    // Asked again (a lost answer): the same out_trade_no, the same prepay_id.
    const again = await stack.services.payments.payParamsOf(order.id);
    expect(again.package).toBe(payParams.package);
    expect(pay.orders.size).toBe(1);
  });

  it('refuses a prepay whose Authorization signature is not the merchant key', async () => {
    const body = JSON.stringify({ appid: 'x', mchid: payKeys('').mchId });
    const response = await fetch(`${stack.sandboxUrl}/sandbox/pay/v3/pay/transactions/jsapi`, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        Authorization: `WECHATPAY2-SHA256-RSA2048 mchid="${payKeys('').mchId}",nonce_str="abc",timestamp="1",serial_no="${payKeys('').merchantSerialNo}",signature="AAAA"`,
      },
      body,
    });
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ code: 'SIGN_ERROR' });
  });

  it('applies a paid notification delivered three times once, and the payment moves the contact to revenue', async () => {
    const { order, contactId } = await newOrder();
    const deliveries = await pay.payOrder({ outTradeNo: order.outTradeNo, times: 3 });
    expect(deliveries.map((d) => d.status)).toEqual([204, 204, 204]);

    const paid = await orderRow(order.id);
    expect(paid).toMatchObject({ state: 'paid', transactionId: pay.orders.get(order.outTradeNo)?.transactionId });
    const recorded = await payments(order.id);
    expect(recorded).toHaveLength(1);
    expect(recorded[0]).toMatchObject({ contactId, channel: 'pay', dedupeKey: `pay:${paid.transactionId}` });
    expect(recorded[0].detail).toMatchObject({ amountFen: 100, outTradeNo: order.outTradeNo });

    await stack.services.reactions.idle();
    await stack.services.reactions.processDue();
    expect((await db().dataSource.manager.findOneByOrFail(Contact, { id: contactId })).stage).toBe('revenue');
  });

  it('applies one order once when three deliveries arrive at the same moment', async () => {
    const { order } = await newOrder();
    const notification = paidNotification(order.outTradeNo);
    const answers = await Promise.all([1, 2, 3].map(() => pay.deliver(notifyUrl, notification)));
    expect(answers.map((a) => a.status)).toEqual([204, 204, 204]);
    expect(await orderRow(order.id)).toMatchObject({ state: 'paid', transactionId: '4200000000202612070000000001' });
    expect(await payments(order.id)).toHaveLength(1);
  });

  it('closes an unpaid order once its prepay has expired, at WeChat Pay first; a paid one stays open for its notification', async () => {
    const unpaid = await newOrder();
    const paidMeanwhile = await newOrder();
    // The payer paid; the notification has not arrived yet.
    const sandboxOrder = pay.orders.get(paidMeanwhile.order.outTradeNo);
    if (sandboxOrder) sandboxOrder.tradeState = 'SUCCESS';
    expect(await stack.services.payments.closeExpired()).toBe(0);
    stack.clock.advance(2 * 60 * 60 * 1000 + 1000);
    expect(await stack.services.payments.closeExpired()).toBe(1);
    expect((await orderRow(unpaid.order.id)).state).toBe('closed');
    expect(pay.orders.get(unpaid.order.outTradeNo)?.tradeState).toBe('CLOSED');
    await expect(pay.payOrder({ outTradeNo: unpaid.order.outTradeNo })).rejects.toThrow(/closed/);
    expect((await orderRow(paidMeanwhile.order.id)).state).toBe('created');
    const late = await pay.deliver(notifyUrl, paidNotification(paidMeanwhile.order.outTradeNo));
    expect(late.status).toBe(204);
    expect((await orderRow(paidMeanwhile.order.id)).state).toBe('paid');
  });

  it('refuses a tampered body (401, FAIL) and changes nothing', async () => {
    const { order } = await newOrder();
    const notification = paidNotification(order.outTradeNo);
    const tampered = { ...notification, body: notification.body.replace('支付成功', '支付成功!') };
    const answer = await pay.deliver(notifyUrl, tampered);
    expect(answer.status).toBe(401);
    expect(JSON.parse(answer.body)).toMatchObject({ code: 'FAIL' });

    // Signed properly but its ciphertext altered: the GCM tag refuses it.
    const envelope = JSON.parse(paidNotification(order.outTradeNo).body) as { resource: { ciphertext: string } };
    const bytes = Buffer.from(envelope.resource.ciphertext, 'base64');
    bytes[0] ^= 1;
    envelope.resource.ciphertext = bytes.toString('base64');
    const reBody = JSON.stringify(envelope);
    const forged = await pay.deliver(notifyUrl, { body: reBody, headers: resignedHeaders(pay, reBody, notification.headers) });
    expect(forged.status).toBe(400);

    expect(await orderRow(order.id)).toMatchObject({ state: 'created', transactionId: null });
    expect(await payments(order.id)).toHaveLength(0);
  });

  it('refuses a tampered or forged refund notification (401, FAIL): a paid order stays paid', async () => {
    const { order } = await newOrder();
    await pay.payOrder({ outTradeNo: order.outTradeNo });
    const paid = pay.orders.get(order.outTradeNo);
    if (!paid) throw new Error('the sandbox has no order');
    const refundNotification = pay.notification({
      eventType: 'REFUND.SUCCESS',
      summary: '退款成功',
      originalType: 'refund',
      resource: {
        mchid: paid.mchid,
        out_trade_no: paid.outTradeNo,
        transaction_id: paid.transactionId,
        out_refund_no: `R${paid.outTradeNo}`,
        refund_id: '50000000382019052709732678859',
        refund_status: 'SUCCESS',
        success_time: '2026-12-07T15:00:00+08:00',
        user_received_account: '支付用户零钱',
        amount: { total: paid.total, refund: paid.total, payer_total: paid.total, payer_refund: paid.total },
      },
      signWith: 'public_key',
    });
    const tampered = { ...refundNotification, body: refundNotification.body.replace('退款成功', '退款成功!') };
    const answer = await pay.deliver(notifyUrl, tampered);
    expect(answer.status).toBe(401);
    expect(JSON.parse(answer.body)).toMatchObject({ code: 'FAIL' });
    const unknownKey = await pay.deliver(notifyUrl, {
      ...refundNotification,
      headers: { ...refundNotification.headers, 'Wechatpay-Serial': 'PUB_KEY_ID_0000UNKNOWN' },
    });
    expect(unknownKey.status).toBe(401);
    expect(await orderRow(order.id)).toMatchObject({ state: 'paid', refundId: null });
  });

  it('refuses a notification with a stale timestamp', async () => {
    const { order } = await newOrder();
    const stale = Math.floor(stack.clock.now().getTime() / 1000) - 301;
    const answer = await pay.deliver(notifyUrl, paidNotification(order.outTradeNo, { timestamp: stale }));
    expect(answer.status).toBe(401);
    expect(JSON.parse(answer.body)).toMatchObject({ code: 'FAIL' });
    expect((await orderRow(order.id)).state).toBe('created');
  });

  it('accepts notifications signed with the WeChat Pay public key and with the platform certificate', async () => {
    const first = await newOrder();
    const second = await newOrder();
    expect((await pay.payOrder({ outTradeNo: first.order.outTradeNo, signWith: 'public_key' }))[0].status).toBe(204);
    expect((await pay.payOrder({ outTradeNo: second.order.outTradeNo, signWith: 'certificate' }))[0].status).toBe(204);
    expect((await orderRow(first.order.id)).state).toBe('paid');
    expect((await orderRow(second.order.id)).state).toBe('paid');

    // A serial Flywheel does not know (a key it was never given) is refused.
    const third = await newOrder();
    const notification = paidNotification(third.order.outTradeNo);
    const unknown = await pay.deliver(notifyUrl, {
      ...notification,
      headers: { ...notification.headers, 'Wechatpay-Serial': 'PUB_KEY_ID_0000UNKNOWN' },
    });
    expect(unknown.status).toBe(401);
    expect((await orderRow(third.order.id)).state).toBe('created');
  });

  it('sells a reference (a paid registration) at its own amount, and refunds it when it is cancelled', async () => {
    const who = await follower();
    const ref = { type: 'registration', id: '42', amountFen: 9900, description: '展会门票' };
    const { order } = await stack.services.payments.createJsapiOrder({ ...who, ref });
    expect(order).toMatchObject({ productId: null, refType: 'registration', refId: '42', amountFen: 9900, description: '展会门票' });
    expect(
      await stack.services.payments.refundFor({ ref: { type: 'registration', id: '42' }, actor: { operatorId: null, ip: null } }),
    ).toBeNull();
    await pay.payOrder({ outTradeNo: order.outTradeNo });
    const refunding = await stack.services.payments.refundFor({
      ref: { type: 'registration', id: '42' },
      actor: { operatorId: null, ip: null },
      reason: '报名取消',
    });
    expect(refunding?.id).toBe(order.id);
    await pay.settled();
    expect((await orderRow(order.id)).state).toBe('refunded');
    expect([...pay.refunds.values()].map((r) => r.refund)).toEqual([9900]);
  });

  it('refunds a paid order from the admin API once: refunding, then refunded by the notification', async () => {
    const { order } = await newOrder();
    await pay.payOrder({ outTradeNo: order.outTradeNo });
    const operator = await adminToken('operator');
    const refused = await fetch(`${stack.baseUrl}/api/admin/pay/orders/${order.id}/refund`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${operator}`, 'Content-Type': 'application/json' },
      body: '{}',
    });
    expect(refused.status).toBe(403);

    const token = await adminToken('admin');
    const refund = () =>
      fetch(`${stack.baseUrl}/api/admin/pay/orders/${order.id}/refund`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ reason: '报名取消' }),
      });
    const answered = await refund();
    expect(answered.status).toBe(200);
    expect(((await answered.json()) as { state: string }).state).toMatch(/^refund(ing|ed)$/);
    await pay.settled();
    const refunded = await orderRow(order.id);
    expect(refunded).toMatchObject({ state: 'refunded', outRefundNo: `R${order.outTradeNo}` });
    expect(refunded.refundId).not.toBeNull();
    expect(pay.refunds.size).toBe(1);
    expect(await db().dataSource.manager.countBy(AuditLog, { action: 'pay_order.refund', targetId: String(order.id) })).toBe(1);

    // Refunded already: refused, nothing sent.
    const twice = await refund();
    expect(twice.status).toBe(409);
    expect(pay.refunds.size).toBe(1);

    const list = await fetch(`${stack.baseUrl}/api/admin/pay/orders?state=refunded`, { headers: { Authorization: `Bearer ${operator}` } });
    expect(list.status).toBe(200);
    expect(((await list.json()) as { items: { id: number }[] }).items.map((o) => o.id)).toEqual([order.id]);
  });
});

/** The headers of `original`, re-signed over `body` with the platform's key: a forger who holds it still cannot forge the GCM tag. */
function resignedHeaders(pay: SandboxPay, body: string, original: Record<string, string>): Record<string, string> {
  const message = `${original['Wechatpay-Timestamp']}\n${original['Wechatpay-Nonce']}\n${body}\n`;
  return { ...original, 'Wechatpay-Signature': signPayMessage(pay.keys.publicKey.privateKeyPem, message) };
}
