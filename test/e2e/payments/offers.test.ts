import request from 'supertest';
import { Interaction } from '../../../entities/interaction.entity';
import { PayOrder } from '../../../entities/pay-order.entity';
import { verifyPayMessage, jsapiPaySignMessage } from '../../../server/wechat/pay-signing';
import { describeEachDatabase } from '../../support/database';
import { sandboxPayKeysWithCertificate } from '../../support/pay-keys';
import { recordFollower } from '../../support/followers';
import { startTestStack, type TestStack } from '../../support/test-stack';

interface PayParams {
  appId: string;
  timeStamp: string;
  nonceStr: string;
  package: string;
  signType: string;
  paySign: string;
}

const keys = sandboxPayKeysWithCertificate('wxsandbox0000000001');

describeEachDatabase('the offer page API: a visitor buys the trial offer (一元体验) with JSAPI', (db) => {
  let stack: TestStack;
  /** The contact web OAuth identified, or null for a visitor outside WeChat. */
  let visitor: number | null;

  beforeEach(async () => {
    visitor = null;
    stack = await startTestStack(db(), {}, { payKeys: keys, identifyVisitor: () => Promise.resolve(visitor) });
  });
  afterEach(async () => {
    await stack.sandbox.pay?.settled();
    await stack.close();
  });

  jest.setTimeout(60_000);

  /** A follower of the Official Account (an oa_openid of the Pay appid), as web OAuth finds them. */
  const follower = async (): Promise<number> => (await recordFollower(stack)).contactId;
  const product = (oncePerContact: boolean) =>
    stack.services.payments.createProduct({ name: '一元体验', priceFen: 100, oncePerContact, actor: { operatorId: null, ip: null } });
  const buy = (productId: number) => request(stack.baseUrl).post(`/api/offers/${productId}/orders`).send({});
  /** What WeChat's bridge does with the page's parameters, through the sandbox's stand-in. */
  const bridgePay = (params: PayParams) =>
    request(stack.sandboxUrl)
      .post('/sandbox/pay/actions')
      .send({ action: 'jsapi_pay', ...params });
  const orderRow = (id: number) => db().dataSource.manager.findOneByOrFail(PayOrder, { id });

  it('shows an active product, and no inactive or unknown one', async () => {
    const trial = await product(true);
    expect((await request(stack.baseUrl).get(`/api/offers/${trial.id}`).expect(200)).body).toEqual({
      id: trial.id,
      name: '一元体验',
      priceFen: 100,
      oncePerContact: true,
    });
    const off = await stack.services.payments.createProduct({
      name: '下架',
      priceFen: 500,
      active: false,
      actor: { operatorId: null, ip: null },
    });
    for (const id of [String(off.id), '999999', 'abc', '1e3']) {
      expect((await request(stack.baseUrl).get(`/api/offers/${id}`).expect(404)).body).toMatchObject({
        error: { code: 'product_not_found' },
      });
    }
  });

  it('refuses an order outside WeChat, and for a visitor without an openid of the Pay app, with 401 wechat_required', async () => {
    const trial = await product(true);
    expect((await buy(trial.id).expect(401)).body).toMatchObject({ error: { code: 'wechat_required' } });
    // A contact known by phone only (a registration outside WeChat) has no openid to pay with.
    visitor = await stack.services.transactor.run(async (m) => {
      const recorded = await stack.services.interactions.recordInteraction(m, {
        type: 'note',
        channel: 'web',
        occurredAt: stack.clock.now(),
        detail: {},
        identity: { kind: 'phone', appId: '', value: '+8613800000001' },
        dedupeKey: `test:phone-only:${Date.now()}`,
      });
      return recorded.contactId ?? 0;
    });
    expect((await buy(trial.id).expect(401)).body).toMatchObject({ error: { code: 'wechat_required' } });
    expect(await db().dataSource.manager.count(PayOrder)).toBe(0);
  });

  it('makes one order a second tap gets again, paid through the bridge with a pay-sign the merchant key verifies, then once only', async () => {
    const trial = await product(true);
    visitor = await follower();
    const first = (await buy(trial.id).expect(201)).body as {
      order: { id: number; state: string; amountFen: number };
      payParams: PayParams;
    };
    expect(first.order).toMatchObject({ state: 'created', amountFen: 100 });
    const params = first.payParams;
    expect(params).toMatchObject({ appId: 'wxsandbox0000000001', signType: 'RSA' });
    expect(params.package).toMatch(/^prepay_id=wx[0-9a-f]{32}$/);
    expect(verifyPayMessage(keys.merchantPublicKeyPem, jsapiPaySignMessage(params), params.paySign)).toBe(true);

    // A second tap (or a second phone) while the first is unpaid: the same order, the same prepay_id.
    const again = (await buy(trial.id).expect(201)).body as { order: { id: number }; payParams: PayParams };
    expect(again.order.id).toBe(first.order.id);
    expect(again.payParams.package).toBe(params.package);

    // A forged pay-sign is refused as WeChat's client refuses it; the order stays open.
    const forged = await bridgePay({ ...params, paySign: Buffer.from('forged').toString('base64') }).expect(400);
    expect(forged.body).toMatchObject({ err_msg: 'get_brand_wcpay_request:fail' });
    expect((await orderRow(first.order.id)).state).toBe('created');

    expect((await bridgePay(params).expect(200)).body).toMatchObject({ err_msg: 'get_brand_wcpay_request:ok' });
    const polled = await request(stack.baseUrl).get(`/api/offers/orders/${first.order.id}`).expect(200);
    expect(polled.body).toMatchObject({ id: first.order.id, state: 'paid', amountFen: 100 });
    const payments = await db().dataSource.manager.find(Interaction, { where: { type: 'payment', contactId: visitor } });
    expect(payments).toHaveLength(1);

    expect((await buy(trial.id).expect(409)).body).toMatchObject({ error: { code: 'already_purchased' } });
    expect(await db().dataSource.manager.count(PayOrder)).toBe(1);
  });

  it('gives two taps at once one order of a once-per-person product, and an ordinary product an order each', async () => {
    const trial = await product(true);
    visitor = await follower();
    const [a, b] = await Promise.all([buy(trial.id).expect(201), buy(trial.id).expect(201)]);
    expect((a.body as { order: { id: number } }).order.id).toBe((b.body as { order: { id: number } }).order.id);

    const ticket = await product(false);
    const [c, d] = await Promise.all([buy(ticket.id).expect(201), buy(ticket.id).expect(201)]);
    expect((c.body as { order: { id: number } }).order.id).not.toBe((d.body as { order: { id: number } }).order.id);
  });

  it('lets a new order take the claim once the unpaid one closed', async () => {
    const trial = await product(true);
    visitor = await follower();
    const first = (await buy(trial.id).expect(201)).body as { order: { id: number } };
    stack.clock.advance(2 * 60 * 60 * 1000 + 1000);
    expect(await stack.services.payments.closeExpired()).toBe(1);
    const second = (await buy(trial.id).expect(201)).body as { order: { id: number } };
    expect(second.order.id).not.toBe(first.order.id);
  });

  it("does not show a visitor someone else's order (404, as for a missing one)", async () => {
    const trial = await product(true);
    visitor = await follower();
    const mine = (await buy(trial.id).expect(201)).body as { order: { id: number } };
    await request(stack.baseUrl).get(`/api/offers/orders/${mine.order.id}`).expect(200);
    visitor = await follower();
    expect((await request(stack.baseUrl).get(`/api/offers/orders/${mine.order.id}`).expect(404)).body).toMatchObject({
      error: { code: 'order_not_found' },
    });
    visitor = null;
    await request(stack.baseUrl).get(`/api/offers/orders/${mine.order.id}`).expect(404);
  });

  it('limits orders per visitor (each is a row and a prepay call): 429 rate_limited past the budget', async () => {
    await stack.close();
    stack = await startTestStack(db(), { EVENT_RATE_PER_PHONE: '3' }, { payKeys: keys, identifyVisitor: () => Promise.resolve(visitor) });
    const ticket = await product(false);
    visitor = await follower();
    for (let i = 0; i < 3; i += 1) await buy(ticket.id).expect(201);
    const limited = await buy(ticket.id).expect(429);
    expect(limited.body).toMatchObject({ error: { code: 'rate_limited' } });
    expect(await db().dataSource.manager.count(PayOrder)).toBe(3);
  });
});
