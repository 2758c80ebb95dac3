import request from 'supertest';
import type { OperatorRole } from '../../../entities/operator.entity';
import { describeEachDatabase } from '../../support/database';
import { startTestStack, type TestStack } from '../../support/test-stack';

interface TimelineItemBody {
  kind: string;
  id: number;
  type?: string;
  at: string;
}

/** The sidebar's read of a customer and its live timeline, against the whole server and the sandbox. */
describeEachDatabase('sidebar API: the customer read and its scoping', (db) => {
  let stack: TestStack;
  let repA: string;
  let repB: string;
  let admin: string;
  let customer: { contactId: number; externalUserId: string };

  const signIn = async (username: string, role: OperatorRole, wecomUserId: string | null = null) => {
    const created = await stack.services.operators.createOperator({
      username,
      password: `${username}-password`,
      role,
      wecomUserId,
      actor: { operatorId: null, ip: null },
    });
    if (!created.ok) throw new Error(created.reason);
    const login = await request(stack.baseUrl)
      .post('/api/admin/login')
      .send({ username, password: `${username}-password` })
      .expect(200);
    return (login.body as { token: string }).token;
  };
  const get = (path: string, token: string | null) => {
    const call = request(stack.baseUrl).get(path);
    return token === null ? call : call.set('Authorization', `Bearer ${token}`);
  };
  const addCustomer = async (userId: string, externalUserId: string, name: string) => {
    await stack.player().addExternalContact({ userId, externalUserId, name });
    await stack.services.reactions.idle();
    await stack.services.reactions.processDue();
    const [row] = await db().dataSource.query<{ contact_id: number | string }[]>(
      "SELECT contact_id FROM contact_identities WHERE kind = 'external_userid' AND value = ?",
      [externalUserId],
    );
    return { contactId: Number(row.contact_id), externalUserId };
  };

  beforeEach(async () => {
    stack = await startTestStack(db());
    repA = await signIn('rep-a', 'sales', 'rep-a');
    repB = await signIn('rep-b', 'sales', 'rep-b');
    admin = await signIn('ada', 'admin');
    customer = await addCustomer('rep-a', 'wmCustomerA_1', '王总');
  });
  afterEach(async () => {
    await stack.close();
  });

  it('answers 401 without a session, 400 for a malformed id, 404 for an unknown one, 403 to a rep who does not follow', async () => {
    const path = `/api/sidebar/contacts/by-external/${customer.externalUserId}`;
    expect((await get(path, null).expect(401)).body).toMatchObject({ error: { code: 'unauthorized' } });
    await get(`/api/sidebar/contacts/by-external/${'x'.repeat(65)}`, repA).expect(400);
    await get('/api/sidebar/contacts/by-external/wm%21bad', repA).expect(400);
    expect((await get('/api/sidebar/contacts/by-external/wmNeverSeen', repA).expect(404)).body).toMatchObject({
      error: { code: 'contact_unknown' },
    });
    expect((await get(path, repB).expect(403)).body).toMatchObject({ error: { code: 'not_your_customer' } });
    await get(path, repA).expect(200);
    await get(path, admin).expect(200);

    // The live timeline is scoped the same way, and its id and cursor are checked.
    const after = ((await get(path, repA).expect(200)).body as { timeline: { after: string } }).timeline.after;
    await get(`/api/sidebar/contacts/${customer.contactId}/timeline?after=${after}`, null).expect(401);
    const refused = await get(`/api/sidebar/contacts/${customer.contactId}/timeline?after=${after}`, repB).expect(403);
    expect(refused.body).toMatchObject({ error: { code: 'not_your_customer' } });
    await get(`/api/sidebar/contacts/999999/timeline?after=${after}`, repA).expect(404);
    await get(`/api/sidebar/contacts/abc/timeline?after=${after}`, repA).expect(400);
    await get(`/api/sidebar/contacts/${customer.contactId}/timeline?after=yesterday`, repA).expect(400);
    await get(`/api/sidebar/contacts/${customer.contactId}/timeline`, repA).expect(400);
    await get(`/api/sidebar/contacts/${customer.contactId}/timeline?after=${after}`, admin).expect(200);

    // A rep whose follow was removed no longer sees the customer.
    await stack.player().removeExternalContact({ userId: 'rep-a', externalUserId: customer.externalUserId, by: 'customer' });
    await stack.services.reactions.idle();
    await stack.services.reactions.processDue();
    await get(path, repA).expect(403);
  });

  it("shows the customer as the admin page does: name, identities, the reps who follow, the timeline's first page", async () => {
    const body = (await get(`/api/sidebar/contacts/by-external/${customer.externalUserId}`, repA).expect(200)).body as {
      contact: Record<string, unknown>;
      timeline: { items: TimelineItemBody[]; nextBefore: string | null; after: string };
      stage: string;
      hints: unknown[];
    };
    expect(body.contact).toMatchObject({
      id: customer.contactId,
      display: { kind: 'name', text: '王总' },
      identities: { officialAccount: null, miniProgram: null, externalUserId: customer.externalUserId },
      follows: [{ userId: 'rep-a', name: 'rep-a', mine: true }],
    });
    expect(body.stage).toBe('acquired');
    expect(body.timeline.items.map((item) => item.type ?? item.kind)).toContain('add_external_contact');
    expect(body.timeline.after).toMatch(/^\d+_\d+_\d+_\d+_\d+$/);
    const admins = (await get(`/api/sidebar/contacts/by-external/${customer.externalUserId}`, admin).expect(200)).body as {
      contact: { follows: { mine: boolean }[] };
    };
    expect(admins.contact.follows).toEqual([expect.objectContaining({ userId: 'rep-a', mine: false })]);
  });

  it('the live timeline answers what is newer than its cursor, once, even when stamped a moment earlier', async () => {
    const first = (await get(`/api/sidebar/contacts/by-external/${customer.externalUserId}`, repA).expect(200)).body as {
      timeline: { after: string };
    };
    const live = (after: string) => get(`/api/sidebar/contacts/${customer.contactId}/timeline?after=${after}`, repA).expect(200);
    const nothing = (await live(first.timeline.after)).body as { items: unknown[]; after: string; more: boolean };
    expect(nothing).toEqual({ items: [], after: expect.stringMatching(/^\d+_/) as string, more: false });

    const record = (dedupeKey: string, content: string, occurredAt: Date) =>
      stack.services.transactor.run((m) =>
        stack.services.interactions.recordInteraction(m, {
          type: 'text',
          channel: 'wecom',
          occurredAt,
          detail: { content },
          identity: null,
          contactId: customer.contactId,
          dedupeKey,
        }),
      );
    stack.clock.advance(5_000);
    const now = stack.clock.now();
    await record('test:live:1', '在吗', now);
    // Written after the first, stamped a second before it (a callback's CreateTime): still new.
    await record('test:live:2', '想了解展会', new Date(now.getTime() - 1_000));
    const news = (await live(nothing.after)).body as { items: TimelineItemBody[]; after: string; more: boolean };
    expect(news.items.map((item) => item.kind === 'interaction' && item.type)).toEqual(['text', 'text']);
    expect(news.items.map((item) => (item as unknown as { detail: { content: string } }).detail.content)).toEqual(['在吗', '想了解展会']);
    expect(news.more).toBe(false);
    const again = (await live(news.after)).body as { items: unknown[] };
    expect(again.items).toEqual([]);
  });
});
