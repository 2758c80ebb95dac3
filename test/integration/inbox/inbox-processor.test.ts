import { CallbackInbox } from '../../../entities/callback-inbox.entity';
import { createLogger } from '../../../server/adapters/logger';
import { InboxProcessor } from '../../../server/modules/inbox/inbox-processor.service';
import { describeEachDatabase } from '../../support/database';
import { startTestStack, type TestStack } from '../../support/test-stack';

describeEachDatabase('inbox processor: passes and batches', (db) => {
  let stack: TestStack;
  beforeEach(async () => {
    stack = await startTestStack(db());
  });
  afterEach(async () => {
    await stack.close();
  });

  /** A processor with tiny batches and passes, so a "burst" of a few rows spans several passes. */
  function smallProcessor(): InboxProcessor {
    const s = stack.services;
    return new InboxProcessor({
      dataSource: db().dataSource,
      transactor: s.transactor,
      inbox: s.inbox,
      contacts: s.contacts,
      tags: s.tags,
      rules: s.rules,
      scoring: s.scoring,
      officialAccount: s.officialAccount,
      wecom: s.wecom,
      clock: stack.clock,
      logger: createLogger('silent'),
      batchDelayMs: 1,
      batchSize: 2,
      passLimit: 4,
    });
  }

  const storeTexts = async (count: number) => {
    for (let i = 0; i < count; i += 1) {
      await stack.services.inbox.accept({
        source: 'oa',
        payload: `<xml><MsgId>${7000 + i}</MsgId></xml>`,
        draft: {
          type: 'text',
          channel: 'oa',
          occurredAt: stack.clock.now(),
          detail: { openid: `o_burst_${i % 3}`, content: 'hi', msgId: String(7000 + i) },
          identity: { kind: 'oa_openid', appId: stack.config.officialAccount.appId, value: `o_burst_${i % 3}` },
          dedupeKey: `oa:test:msg:${7000 + i}`,
        },
      });
    }
  };
  const pending = () => db().dataSource.manager.countBy(CallbackInbox, { status: 'pending' });

  it('one kick after a burst finishes it all, pass after pass, with no callback to kick again', async () => {
    await storeTexts(11);
    const processor = smallProcessor();
    processor.kick();
    await processor.idle();
    expect(await pending()).toBe(0);
  });

  it('a pass stops at its first partial batch; a job run picks up what is left', async () => {
    await storeTexts(3);
    const processor = smallProcessor();
    expect(await processor.processDue()).toBe(3);
    expect(await processor.processDue()).toBe(0);
  });
});
