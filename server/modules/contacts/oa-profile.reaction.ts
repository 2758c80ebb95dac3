import type { Logger } from '../../adapters/logger';
import type { Interaction } from '../../../entities/interaction.entity';
import {
  MAX_OPENIDS_PER_USER_INFO_BATCH,
  type OfficialAccountClient,
  type OfficialAccountUser,
} from '../../adapters/official-account.client';
import { fetchOptional } from '../../adapters/platform-error';
import type { Reaction, ReactionWrite } from '../reactions/reaction';
import type { ContactsService } from './contacts.service';

/**
 * A new Official Account follower: their profile (nickname, avatar) and unionid come from
 * user/info. The unionid links them to the same person met elsewhere (a WeCom customer, the
 * mini-program), merging the two contacts.
 * @link https://developers.weixin.qq.com/doc/offiaccount/User_Management/Get_users_basic_information_UnionID.html
 */
export function createOfficialAccountProfileReaction(deps: {
  officialAccount: OfficialAccountClient;
  contacts: ContactsService;
  logger: Logger;
}): Reaction {
  const write =
    (user: OfficialAccountUser): ReactionWrite =>
    async (m, row, batch) => {
      if (row.contactId === null) return;
      await deps.contacts.updateProfile(m, row.contactId, { name: user.nickname, avatarUrl: user.avatarUrl });
      if (!user.unionid) return;
      const survivor = await deps.contacts.linkIdentity(m, row.contactId, { kind: 'unionid', appId: '', value: user.unionid });
      batch.recordMerge(row.contactId, survivor);
    };
  return {
    name: 'oa-profile',
    async prepare(interaction) {
      const openid = subscriberOf(interaction);
      if (openid === null) return null;
      const user = await fetchOptional(deps.logger, () => deps.officialAccount.getUserInfo(openid));
      return user ? write(user) : null;
    },
    /**
     * A burst of new followers (an exhibition's QR code) in a few user/info/batchget calls, 100
     * openids each, instead of one user/info call per follower. An openid the platform refuses
     * fails the whole call; those rows then go through `prepare`, one by one.
     */
    async prepareBatch(interactions) {
      const subscribes = interactions.flatMap((i) => {
        const openid = subscriberOf(i);
        return openid === null ? [] : [{ id: i.id, openid }];
      });
      const writes = new Map<number, ReactionWrite | null>(interactions.filter((i) => subscriberOf(i) === null).map((i) => [i.id, null]));
      if (subscribes.length < 2) return writes;
      for (let start = 0; start < subscribes.length; start += MAX_OPENIDS_PER_USER_INFO_BATCH) {
        const chunk = subscribes.slice(start, start + MAX_OPENIDS_PER_USER_INFO_BATCH);
        const users = new Map(
          (await deps.officialAccount.batchGetUserInfo([...new Set(chunk.map((c) => c.openid))])).map((u) => [u.openid, u]),
        );
        for (const c of chunk) {
          const user = users.get(c.openid);
          if (user) writes.set(c.id, write(user));
        }
      }
      return writes;
    },
  };
}

/** The follower's openid when this is an Official Account subscribe, else null. */
function subscriberOf(interaction: Interaction): string | null {
  const openid = interaction.detail.openid;
  return interaction.channel === 'oa' && interaction.type === 'subscribe' && typeof openid === 'string' ? openid : null;
}
