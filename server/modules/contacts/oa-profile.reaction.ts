import type { Logger } from '../../adapters/logger';
import type { OfficialAccountClient } from '../../adapters/official-account.client';
import { fetchOptional } from '../../adapters/platform-error';
import type { Reaction } from '../reactions/reaction';
import type { ContactsService } from './contacts.service';

/**
 * A new Official Account follower: their profile (nickname, avatar) and unionid come from
 * user/info. The unionid links them to the same person met elsewhere (a WeCom customer, the
 * mini-program), merging the two contacts.
 * @link https://developers.weixin.qq.com/doc/offiaccount/User_Management/Get_users_basic_information_UnionID.html
 */
export function createOfficialAccountProfileReaction(deps: { officialAccount: OfficialAccountClient; contacts: ContactsService; logger: Logger }): Reaction {
  return {
    name: 'oa-profile',
    async prepare(interaction) {
      const openid = interaction.detail.openid;
      if (interaction.channel !== 'oa' || interaction.type !== 'subscribe' || typeof openid !== 'string') return null;
      const user = await fetchOptional(deps.logger, () => deps.officialAccount.getUserInfo(openid));
      if (!user) return null;
      return async (m, row, batch) => {
        if (row.contactId === null) return;
        await deps.contacts.updateProfile(m, row.contactId, { name: user.nickname, avatarUrl: user.avatarUrl });
        if (!user.unionid) return;
        const survivor = await deps.contacts.linkIdentity(m, row.contactId, { kind: 'unionid', appId: '', value: user.unionid });
        batch.recordMerge(row.contactId, survivor);
        row.contactId = survivor;
      };
    },
  };
}
