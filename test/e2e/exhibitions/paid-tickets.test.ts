import request from 'supertest';
import { EventRegistration } from '../../../entities/event-registration.entity';
import { Interaction } from '../../../entities/interaction.entity';
import { PayOrder } from '../../../entities/pay-order.entity';
import { jsapiPaySignMessage, verifyPayMessage } from '../../../server/wechat/pay-signing';
import { describeEachDatabase } from '../../support/database';
import { sandboxPayKeysWithCertificate } from '../../support/pay-keys';
import { recordFollower } from '../../support/followers';
import { startTestStack, type TestStack } from '../../support/test-stack';

const HOUR = 3_600_000;
const keys = sandboxPayKeysWithCertificate('wxsandbox0000000001');

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
 * Paid tickets (issue 15 §7): a paid event's registration is unpaid until its JSAPI order is paid
 * through the sandbox's stand-in for WeChat's bridge; only a visitor web OAuth identified can
 * register; an unpaid ticket does not pass the gate; an unpaid seat is given back when the order
 * closes; a payment that arrives after a cancel is refunded.
 */
describeEachDatabase('paid tickets: register, pay with JSAPI, check in', (db) => {
  let stack: TestStack;
  let admin: string;
  /** The contact web OAuth identified, or null for a visitor outside WeChat. */
  let visitor: number | null;

  beforeEach(async () => {
    visitor = null;
    stack = await startTestStack(db(), {}, { payKeys: keys, identifyVisitor: () => Promise.resolve(visitor), platformTimeoutMs: 15_000 });
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

  const adminPost = (path: string, body: object) => request(stack.baseUrl).post(path).set('authorization', `Bearer ${admin}`).send(body);
  const errorOf = (res: request.Response) => (res.body as ErrorBody).error;
  const eventBody = (overrides: Record<string, unknown> = {}) => {
    const now = stack.clock.now().getTime();
    return {
      name: '智能制造闭门会',
      venue: { name: '国家会展中心', address: '上海市青浦区崧泽大道333号' },
      startsAt: new Date(now + 48 * HOUR).toISOString(),
      endsAt: new Date(now + 56 * HOUR).toISOString(),
      capacity: 10,
      registrationDeadline: new Date(now + 24 * HOUR).toISOString(),
      fields: [],
      benefit: null,
      ticketPriceFen: 9900,
      ...overrides,
    };
  };
  const createEvent = async (overrides: Record<string, unknown> = {}): Promise<number> => {
    const res = await adminPost('/api/admin/events', eventBody(overrides));
    if (res.status !== 201) throw new Error(`create event: ${res.status} ${JSON.stringify(res.body)}`);
    return (res.body as { id: number }).id;
  };
  /** A follower of the Official Account (an oa_openid of the Pay appid), as web OAuth finds them. */
  const follower = async (): Promise<number> => (await recordFollower(stack)).contactId;
  const register = (eventId: number, phone: string) =>
    request(stack.baseUrl)
      .post(`/api/events/${eventId}/registrations`)
      .send({ answers: { name: '韩梅梅', phone }, consent: true });
  const bridgePay = (params: PayParams) =>
    request(stack.sandboxUrl)
      .post('/sandbox/pay/actions')
      .send({ action: 'jsapi_pay', ...params });
  const ticketStatus = async (eventId: number, token: string) =>
    ((await request(stack.baseUrl).get(`/api/events/${eventId}/tickets/${token}`).expect(200)).body as { status: string }).status;
  const registrationRow = (id: number) => db().dataSource.manager.findOneByOrFail(EventRegistration, { id });
  const seats = async (eventId: number) =>
    ((await request(stack.baseUrl).get(`/api/events/${eventId}`).expect(200)).body as { registered: number }).registered;

  it('shows the price, refuses a paid event with a waitlist, and a registration outside WeChat with 401 before storing anything', async () => {
    const refused = await adminPost('/api/admin/events', eventBody({ waitlist: true })).expect(400);
    expect(errorOf(refused).details).toEqual([expect.objectContaining({ path: 'waitlist', code: 'paid_event_waitlist' })]);
    const eventId = await createEvent();
    expect((await request(stack.baseUrl).get(`/api/events/${eventId}`).expect(200)).body).toMatchObject({ ticketPriceFen: 9900 });
    // Turning the waitlist on later is refused the same way; making the event free allows it.
    const patch = (body: object) =>
      request(stack.baseUrl).patch(`/api/admin/events/${eventId}`).set('authorization', `Bearer ${admin}`).send(body);
    expect(errorOf(await patch({ waitlist: true }).expect(400)).details).toEqual([
      expect.objectContaining({ code: 'paid_event_waitlist' }),
    ]);
    await patch({ ticketPriceFen: 0 }).expect(400);
    await patch({ ticketPriceFen: 1990 }).expect(200);

    expect(errorOf(await register(eventId, '13800000001').expect(401)).code).toBe('wechat_required');
    expect(await db().dataSource.manager.count(EventRegistration)).toBe(0);
    expect(await seats(eventId)).toBe(0);
  });

  it('registers an OAuth visitor unpaid with pay params the merchant key verifies; paying makes the ticket valid, and it checks in', async () => {
    const eventId = await createEvent();
    visitor = await follower();
    const res = await register(eventId, '13800000002').expect(201);
    const body = res.body as PaidRegistration;
    expect(body.status).toBe('unpaid');
    const params = body.payment.payParams;
    expect(params).toMatchObject({ appId: 'wxsandbox0000000001', signType: 'RSA' });
    expect(verifyPayMessage(keys.merchantPublicKeyPem, jsapiPaySignMessage(params), params.paySign)).toBe(true);
    const order = await db().dataSource.manager.findOneByOrFail(PayOrder, { id: body.payment.orderId });
    expect(order).toMatchObject({ refType: 'registration', refId: String(body.registrationId), amountFen: 9900, state: 'created' });
    expect(order.description).toBe('智能制造闭门会 门票');
    expect(await seats(eventId)).toBe(1);
    expect(await ticketStatus(eventId, body.ticket.token)).toBe('unpaid');

    // An unpaid ticket does not pass the gate.
    const scan = () => adminPost(`/api/admin/events/${eventId}/checkins`, { token: body.ticket.token, gate: 'A' });
    expect(errorOf(await scan().expect(409)).code).toBe('ticket_unpaid');

    // 去支付 on the ticket page: the same order, the same prepay_id.
    const again = await request(stack.baseUrl)
      .post(`/api/events/${eventId}/registrations/pay`)
      .send({ token: body.ticket.token })
      .expect(200);
    expect(again.body).toMatchObject({ orderId: body.payment.orderId, payParams: { package: params.package } });

    expect((await bridgePay(params).expect(200)).body).toMatchObject({ err_msg: 'get_brand_wcpay_request:ok' });
    expect((await registrationRow(body.registrationId)).status).toBe('registered');
    expect(await ticketStatus(eventId, body.ticket.token)).toBe('valid');
    const polled = await request(stack.baseUrl).get(`/api/offers/orders/${body.payment.orderId}`).expect(200);
    expect(polled.body).toMatchObject({ state: 'paid' });
    const paid = await db().dataSource.manager.find(Interaction, { where: { type: 'registration', contactId: visitor } });
    expect(paid.map((i) => (i.detail as { status: string }).status).sort()).toEqual(['registered', 'unpaid']);
    // A repeated notification changes nothing; the ticket cannot be paid twice.
    await request(stack.sandboxUrl).post('/sandbox/pay/actions').send({ action: 'pay_order', outTradeNo: order.outTradeNo }).expect(200);
    expect(await db().dataSource.manager.count(Interaction, { where: { type: 'registration', contactId: visitor } })).toBe(2);
    const paidAgain = await request(stack.baseUrl)
      .post(`/api/events/${eventId}/registrations/pay`)
      .send({ token: body.ticket.token })
      .expect(409);
    expect(errorOf(paidAgain).code).toBe('already_purchased');

    await scan().expect(200);
    expect(await seats(eventId)).toBe(1);
  });

  it('refunds a paid ticket when it is cancelled, once however often it is cancelled', async () => {
    const eventId = await createEvent();
    visitor = await follower();
    const body = (await register(eventId, '13800000007').expect(201)).body as PaidRegistration;
    await bridgePay(body.payment.payParams).expect(200);
    expect((await db().dataSource.manager.findOneByOrFail(PayOrder, { id: body.payment.orderId })).state).toBe('paid');
    const cancel = () =>
      request(stack.baseUrl).post(`/api/events/${eventId}/registrations/cancel`).send({ token: body.ticket.token }).expect(200);
    await cancel();
    await stack.sandbox.pay?.settled();
    expect((await db().dataSource.manager.findOneByOrFail(PayOrder, { id: body.payment.orderId })).state).toBe('refunded');
    expect([...(stack.sandbox.pay?.refunds.values() ?? [])].map((r) => r.refund)).toEqual([9900]);
    expect(await seats(eventId)).toBe(0);
    await cancel();
    expect(stack.sandbox.pay?.refunds.size).toBe(1);
  });

  it('gives the seat back when the unpaid order closes after two hours: a full one-seat event takes a new registration', async () => {
    const eventId = await createEvent({ capacity: 1 });
    visitor = await follower();
    const first = (await register(eventId, '13800000003').expect(201)).body as PaidRegistration;
    visitor = await follower();
    expect(errorOf(await register(eventId, '13800000004').expect(409)).code).toBe('event_full');

    stack.clock.advance(2 * HOUR + 1000);
    expect(await stack.services.payments.closeExpired()).toBe(1);
    expect((await registrationRow(first.registrationId)).status).toBe('cancelled');
    expect(await ticketStatus(eventId, first.ticket.token)).toBe('revoked');
    expect(await seats(eventId)).toBe(0);
    const released = await db().dataSource.manager.find(Interaction, { where: { type: 'registration_cancelled' } });
    expect(released.map((i) => i.detail)).toEqual([expect.objectContaining({ unpaid: true, reason: 'order_closed' })]);

    const second = (await register(eventId, '13800000004').expect(201)).body as PaidRegistration;
    expect(second.status).toBe('unpaid');
    expect(await seats(eventId)).toBe(1);
    // Released already: the sweep by age finds nothing more to release.
    expect(await stack.services.registrations.releaseExpiredUnpaid()).toBe(0);
  });

  it('refunds a payment that arrives after the holder cancelled, and one for a registration released by age', async () => {
    const eventId = await createEvent({ capacity: 2 });
    visitor = await follower();
    const cancelled = (await register(eventId, '13800000005').expect(201)).body as PaidRegistration;
    await request(stack.baseUrl).post(`/api/events/${eventId}/registrations/cancel`).send({ token: cancelled.ticket.token }).expect(200);
    expect(await seats(eventId)).toBe(0);

    await bridgePay(cancelled.payment.payParams).expect(200);
    await stack.sandbox.pay?.settled();
    expect((await registrationRow(cancelled.registrationId)).status).toBe('cancelled');
    const refunded = await db().dataSource.manager.findOneByOrFail(PayOrder, { id: cancelled.payment.orderId });
    expect(refunded.state).toBe('refunded');
    expect(await seats(eventId)).toBe(0);

    // Past the pay window without the order closed (WeChat Pay did not answer the close): released by age.
    visitor = await follower();
    const late = (await register(eventId, '13800000006').expect(201)).body as PaidRegistration;
    stack.clock.advance(2 * HOUR + 1000);
    expect(await stack.services.registrations.releaseExpiredUnpaid()).toBe(1);
    expect(await seats(eventId)).toBe(0);
    await bridgePay(late.payment.payParams).expect(200);
    await stack.sandbox.pay?.settled();
    expect((await registrationRow(late.registrationId)).status).toBe('cancelled');
    expect((await db().dataSource.manager.findOneByOrFail(PayOrder, { id: late.payment.orderId })).state).toBe('refunded');
  });

  it("keeps a re-registration's seat when the cancelled registration's old order closes: its new order can still be paid", async () => {
    const eventId = await createEvent({ capacity: 1 });
    visitor = await follower();
    const first = (await register(eventId, '13800000007').expect(201)).body as PaidRegistration;
    await request(stack.baseUrl).post(`/api/events/${eventId}/registrations/cancel`).send({ token: first.ticket.token }).expect(200);
    stack.clock.advance(HOUR);
    // The same phone again within the hour: the same registration, unpaid, with a new order.
    const again = (await register(eventId, '13800000007').expect(201)).body as PaidRegistration;
    expect(again.registrationId).toBe(first.registrationId);
    expect(again.payment.orderId).not.toBe(first.payment.orderId);

    // The first order's two hours pass: it closes, and the revived registration keeps its seat.
    stack.clock.advance(HOUR + 1000);
    expect(await stack.services.payments.closeExpired()).toBe(1);
    expect(await stack.services.registrations.releaseExpiredUnpaid()).toBe(0);
    expect((await registrationRow(first.registrationId)).status).toBe('unpaid');
    expect(await seats(eventId)).toBe(1);
    await bridgePay(again.payment.payParams).expect(200);
    await stack.sandbox.pay?.settled();
    expect((await registrationRow(first.registrationId)).status).toBe('registered');
    expect(await ticketStatus(eventId, again.ticket.token)).toBe('valid');
  });

  it('refuses to change the ticket price once someone registered (a promise to those registered at it)', async () => {
    const eventId = await createEvent({ capacity: 5 });
    const patch = (body: object) =>
      request(stack.baseUrl).patch(`/api/admin/events/${eventId}`).set('authorization', `Bearer ${admin}`).send(body);
    await patch({ ticketPriceFen: 19900 }).expect(200);
    visitor = await follower();
    await register(eventId, '13800000008').expect(201);
    for (const ticketPriceFen of [100, null]) {
      const refused = await patch({ ticketPriceFen }).expect(400);
      expect(JSON.stringify(refused.body)).toContain('price_locked');
    }
    // What else the event says may still change.
    await patch({ name: '2026 智能制造展（更新）' }).expect(200);
  });

  it('lets one WeChat visitor hold one unpaid seat: another phone typed by the same person is refused', async () => {
    const eventId = await createEvent({ capacity: 3 });
    visitor = await follower();
    await register(eventId, '13800000009').expect(201);
    expect(errorOf(await register(eventId, '13800000010').expect(409)).code).toBe('already_registered');
    expect(await seats(eventId)).toBe(1);
  });
});
