import { randomBytes } from 'node:crypto';
import type { TestStack } from './test-stack';

/**
 * A follower of the stack's Official Account, as web OAuth finds them: a subscribe recorded with
 * an oa_openid of the account's appid (the Pay appid too), its reactions run.
 */
export async function recordFollower(
  stack: TestStack,
  openid = `o-test-${randomBytes(6).toString('hex')}`,
): Promise<{ contactId: number; openid: string }> {
  const result = await stack.services.transactor.run((m) =>
    stack.services.interactions.recordInteraction(m, {
      type: 'subscribe',
      channel: 'oa',
      occurredAt: stack.clock.now(),
      detail: { openid },
      identity: { kind: 'oa_openid', appId: stack.config.officialAccount.appId, value: openid },
      dedupeKey: `oa:test:follower:${openid}`,
    }),
  );
  await stack.services.reactions.processDue();
  return { contactId: result.contactId ?? 0, openid };
}
