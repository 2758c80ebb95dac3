import { ContactIdentity } from '../../../entities/contact-identity.entity';
import { Contact } from '../../../entities/contact.entity';
import { describeEachDatabase } from '../../support/database';
import { startTestStack, type TestStack } from '../../support/test-stack';

describeEachDatabase('unionid backfill: followers from before Flywheel get linked', (db) => {
  let stack: TestStack;
  beforeEach(async () => {
    stack = await startTestStack(db());
  });
  afterEach(async () => {
    await stack.close();
  });

  const backfill = () => {
    if (!stack.services.unionidBackfill) throw new Error('the Official Account is configured in the test stack');
    return stack.services.unionidBackfill;
  };

  /** A follower known only by openid (they wrote to the account; no subscribe event was ever seen). */
  async function oldFollower(openid: string, unionid: string | null): Promise<number> {
    stack.sandbox.state.addFollower({ openid, unionid });
    const ref = { kind: 'oa_openid' as const, appId: stack.config.officialAccount.appId, value: openid };
    return stack.services.transactor.run(async (m) => (await stack.services.contacts.resolveContact(m, ref)).contactId);
  }

  it('asks 100 openids a call, links unionids, merges with the same person met on WeCom, and keeps its place', async () => {
    for (let i = 0; i < 149; i += 1) await oldFollower(`o_old_${String(i).padStart(3, '0')}`, `u_old_${i}`);
    await oldFollower('o_unbound', null);
    // The same person as follower 7, already a WeCom customer with the unionid.
    const customer = await stack.services.transactor.run(async (m) => {
      const { contactId } = await stack.services.contacts.resolveContact(m, {
        kind: 'external_userid',
        appId: stack.config.wecom.corpId,
        value: 'wm_old_7',
      });
      await stack.services.contacts.linkIdentity(m, contactId, { kind: 'unionid', appId: '', value: 'u_old_7' });
      return contactId;
    });

    const first = await backfill().runBackfill({ maxCalls: 1 });
    expect(first).toMatchObject({ asked: 100, finished: false });
    const second = await backfill().runBackfill({ maxCalls: 5 });
    expect(second).toMatchObject({ asked: 50, linked: 49, finished: true });
    expect(stack.sandbox.state.callsTo('user/info/batchget')).toHaveLength(2);

    const m = db().dataSource.manager;
    expect(await m.countBy(ContactIdentity, { kind: 'unionid' })).toBe(149);
    // One person: the follower (the older contact survives) holds the WeCom identity too.
    const follower = await m.findOneByOrFail(ContactIdentity, { kind: 'oa_openid', value: 'o_old_007' });
    const external = await m.findOneByOrFail(ContactIdentity, { kind: 'external_userid', value: 'wm_old_7' });
    expect(external.contactId).toBe(follower.contactId);
    expect((await m.findOneByOrFail(Contact, { id: customer })).mergedIntoId).toBe(follower.contactId);

    // Finished: nothing is asked again within a day; a day later the sweep starts over (only the
    // follower without a unionid is left to ask).
    expect(await backfill().runBackfill()).toMatchObject({ asked: 0, finished: true });
    stack.clock.advance(24 * 60 * 60 * 1000 + 1);
    expect(await backfill().runBackfill()).toMatchObject({ asked: 1, linked: 0, finished: true });
  });

  it('stops at the daily quota (45009) and goes on from its place next time', async () => {
    await oldFollower('o_q1', 'u_q1');
    stack.sandbox.state.failNext('user/info/batchget', 45009);
    expect(await backfill().runBackfill()).toMatchObject({ asked: 0, finished: false });
    expect(await backfill().runBackfill()).toMatchObject({ asked: 1, linked: 1, finished: true });
  });
});
