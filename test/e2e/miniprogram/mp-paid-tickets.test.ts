import request from 'supertest';
import { EventRegistration } from '../../../entities/event-registration.entity';
import { Interaction } from '../../../entities/interaction.entity';
import { PayOrder } from '../../../entities/pay-order.entity';
import { generateSandboxPayKeys } from '../../../server/adapters/sandbox/sandbox-pay-keys';
import { jsapiPaySignMessage, verifyPayMessage } from '../../../server/wechat/pay-signing';
import { describeEachDatabase } from '../../support/database';
import { loginMiniProgram, startTestStack, type TestStack } from '../../support/test-stack';

const HOUR = 3_600_000;
const OA_APPID = 'wxsandbox0000000001';
const keys = generateSandboxPayKeys(OA_APPID);

interface PayParams {
  appId: string;
  timeStamp: string;
  nonceStr: string;
  package: string;
  signType: string;
  paySign: string;
}
interface PaidRegistration {
  registrationId: number;
  status: string;
  ticket: { token: string; qrImageUrl: string };
  payment: { orderId: number; payParams: PayParams };
}
interface ErrorBody {
  error: { code: string; message: string; details?: Record<string, unknown> };
}

/**
 * Paid events in the mini-program (issue 17): the order is JSAPI for the mini-program's appid and
 * the session's openid, its pay-sign (wx.requestPayment's) over that appid; the sandbox pays it as
 * a merchant with the mini-program bound would, and its signed notification makes the ticket
 * valid once. An unpaid ticket is refused at the gate, as the H5 page's.
 */
describeEachDatabase('mini-program: paid events with wx.requestPayment', (db) => {
  let stack: TestStack;
  let admin: string;

  beforeEach(async () => {
    stack = await startTestStack(db(), {}, { payKeys: keys, platformTimeoutMs: 15_000 });
    const created = await stack.services.operators.createOperator({
      username: 'admin',
      password: 'admin-password-1',
      role: 'admin',
      wecomUserId: null,
      actor: { operatorId: null, ip: null },
    });
    if (!created.ok) throw new Error(created.reason);
    const login = await stack.services.operators.login({ username: 'admin', password: 'admin-password-1', ip: '127.0.0.1' });
    if (!login.ok) throw new Error(login.reason);
    admin = login.token;
  });
  afterEach(async () => {
    await stack.sandbox.pay?.settled();
    await stack.close();
  });
  jest.setTimeout(90_000);

  const api = () => request(stack.baseUrl);
  const as = (token: string) => ({
    get: (p: string) => api().get(p).set('authorization', `Bearer ${token}`),
    post: (p: string, body: object = {}) => api().post(p).set('authorization', `Bearer ${token}`).send(body),
  });
  const errorOf = (res: request.Response) => (res.body as ErrorBody).error;
  const mpLogin = () => loginMiniProgram(stack);
  const createEvent = async (): Promise<number> => {
    const now = stack.clock.now().getTime();
    const res = await as(admin)
      .post('/api/admin/events', {
        name: '智能制造闭门会',
        venue: { name: '国家会展中心', address: '上海市青浦区崧泽大道333号' },
        startsAt: new Date(now + 48 * HOUR).toISOString(),
        endsAt: new Date(now + 56 * HOUR).toISOString(),
        capacity: 10,
        registrationDeadline: new Date(now + 24 * HOUR).toISOString(),
        fields: [],
        benefit: null,
        ticketPriceFen: 9900,
      })
      .expect(201);
    return (res.body as { id: number }).id;
  };
  /** What WeChat's client does on wx.requestPayment: the five parameters, the app it runs in as appId. */
  const requestPayment = (params: PayParams, appId: string) =>
    request(stack.sandboxUrl)
      .post('/sandbox/pay/actions')
      .send({ action: 'jsapi_pay', ...params, appId });
  const myTicketStatus = async (token: string): Promise<string[]> =>
    ((await as(token).get('/api/mp/me/tickets').expect(200)).body as { items: { status: string }[] }).items.map((t) => t.status);

  it('orders for the mini-program appid and the session openid; paid once by the signed notification; 去支付 and the gate as on H5', async () => {
    const mpAppId = stack.config.miniprogram.appId;
    expect(mpAppId).not.toBe(OA_APPID);
    const eventId = await createEvent();
    const guest = await mpLogin();
    // Nothing to pay before registering.
    expect(errorOf(await as(guest.token).post(`/api/mp/events/${eventId}/registrations/pay`).expect(404)).code).toBe(
      'registration_not_found',
    );

    const res = await as(guest.token)
      .post(`/api/mp/events/${eventId}/registrations`, { answers: { name: '韩梅梅', phone: '13800000002' }, consent: true })
      .expect(201);
    const body = res.body as PaidRegistration;
    expect(body.status).toBe('unpaid');
    const params = body.payment.payParams;
    expect(params).toMatchObject({ appId: mpAppId, signType: 'RSA', package: expect.stringMatching(/^prepay_id=wx/) as string });
    expect(verifyPayMessage(keys.merchantPublicKeyPem, jsapiPaySignMessage(params), params.paySign)).toBe(true);
    const order = await db().dataSource.manager.findOneByOrFail(PayOrder, { id: body.payment.orderId });
    expect(order).toMatchObject({
      appId: mpAppId,
      openid: guest.openid,
      amountFen: 9900,
      state: 'created',
      refId: String(body.registrationId),
    });
    expect(stack.sandbox.pay?.orders.get(order.outTradeNo)).toMatchObject({ appid: mpAppId, openid: guest.openid, total: 9900 });
    expect(await myTicketStatus(guest.token)).toEqual(['unpaid']);

    // An unpaid ticket does not pass the gate, and stays unpaid.
    const scan = () =>
      api()
        .post(`/api/admin/events/${eventId}/checkins`)
        .set('authorization', `Bearer ${admin}`)
        .send({ token: body.ticket.token, gate: 'A' });
    expect(errorOf(await scan().expect(409)).code).toBe('ticket_unpaid');
    expect((await db().dataSource.manager.findOneByOrFail(EventRegistration, { id: body.registrationId })).status).toBe('unpaid');

    // 去支付: the same order, the same prepay_id.
    const again = await as(guest.token).post(`/api/mp/events/${eventId}/registrations/pay`).expect(200);
    expect(again.body).toMatchObject({ orderId: body.payment.orderId, payParams: { appId: mpAppId, package: params.package } });

    // The pay sheet opens in the app the order was made for: the Official Account's page cannot pay it.
    expect((await requestPayment(params, OA_APPID).expect(400)).body).toMatchObject({ err_msg: 'get_brand_wcpay_request:fail' });
    expect(await myTicketStatus(guest.token)).toEqual(['unpaid']);

    await requestPayment(params, mpAppId).expect(200);
    expect(await myTicketStatus(guest.token)).toEqual(['valid']);
    expect((await db().dataSource.manager.findOneByOrFail(PayOrder, { id: order.id })).state).toBe('paid');

    // WeChat Pay delivers again (the answer was lost): answered, and nothing is applied twice.
    const deliveries = await request(stack.sandboxUrl)
      .post('/sandbox/pay/actions')
      .send({ action: 'pay_order', outTradeNo: order.outTradeNo, times: 2 })
      .expect(200);
    expect((deliveries.body as { deliveries: { status: number }[] }).deliveries.map((d) => d.status)).toEqual([204, 204]);
    const contactId = order.contactId;
    const registrations = await db().dataSource.manager.find(Interaction, { where: { type: 'registration', contactId } });
    expect(registrations.map((i) => (i.detail as { status: string }).status).sort()).toEqual(['registered', 'unpaid']);
    expect(await db().dataSource.manager.count(Interaction, { where: { type: 'payment', contactId } })).toBe(1);
    expect(errorOf(await as(guest.token).post(`/api/mp/events/${eventId}/registrations/pay`).expect(409)).code).toBe('already_purchased');

    await scan().expect(200);
    expect(await myTicketStatus(guest.token)).toEqual(['checked_in']);
  });
});
