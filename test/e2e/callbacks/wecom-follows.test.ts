import { ContactFollow } from '../../../entities/contact-follow.entity';
import { describeEachDatabase } from '../../support/database';
import { startTestStack, type TestStack } from '../../support/test-stack';

describeEachDatabase('WeCom follow relations: several reps may follow one customer', (db) => {
  let stack: TestStack;
  beforeEach(async () => {
    stack = await startTestStack(db());
  });
  afterEach(async () => {
    await stack.close();
  });

  const follows = async () =>
    (await db().dataSource.manager.find(ContactFollow, { order: { userId: 'ASC' } })).map((f) => ({
      userId: f.userId,
      status: f.status,
      state: f.state,
      contactId: f.contactId,
    }));

  it('a second rep adding the customer keeps the first one; a rep who is deleted loses only their relation', async () => {
    const first = await stack.player().addExternalContact({ userId: 'sales-li', state: 'booth-7' });
    await stack.player().addExternalContact({ userId: 'sales-wang', externalUserId: first.externalUserId });
    await stack.services.reactions.idle();
    let rows = await follows();
    expect(rows.map(({ userId, status, state }) => ({ userId, status, state }))).toEqual([
      { userId: 'sales-li', status: 'active', state: 'booth-7' },
      { userId: 'sales-wang', status: 'active', state: null },
    ]);
    expect(new Set(rows.map((r) => r.contactId)).size).toBe(1);

    // The customer deletes sales-li; sales-wang deletes... nobody: his relation stays.
    await stack.player().removeExternalContact({ userId: 'sales-li', externalUserId: first.externalUserId, by: 'customer' });
    await stack.services.reactions.idle();
    rows = await follows();
    expect(rows.map(({ userId, status }) => ({ userId, status }))).toEqual([
      { userId: 'sales-li', status: 'removed' },
      { userId: 'sales-wang', status: 'active' },
    ]);

    // Added back: active again.
    await stack.player().addExternalContact({ userId: 'sales-li', externalUserId: first.externalUserId });
    await stack.services.reactions.idle();
    expect((await follows()).every((r) => r.status === 'active')).toBe(true);
  });
});
