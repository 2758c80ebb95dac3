import type { Logger } from '../../adapters/logger';
import { fetchOptional } from '../../adapters/platform-error';
import type { WecomClient } from '../../adapters/wecom.client';
import type { Reaction } from '../reactions/reaction';
import type { WecomTagMirror } from '../tag-sync/wecom-tag-mirror';
import type { ContactsService } from './contacts.service';

/** Pushes after which the customer's detail (name, unionid, follow users, tags) is fetched. */
const DETAIL_CHANGES = new Set(['add_external_contact', 'edit_external_contact', 'add_half_external_contact']);
/** The rep deleted the customer, or the customer deleted the rep: that relation ends. */
const RELATION_ENDS = new Set(['del_external_contact', 'del_follow_user']);

/**
 * A WeCom customer-contact change: the profile and unionid from externalcontact/get (linking and
 * merging as for followers), every rep's follow relation (a customer may be followed by several;
 * each relation is kept), and, when a rep edited the customer in WeCom, the customer's corp tags
 * there become their tags here.
 * @link https://developer.work.weixin.qq.com/document/path/92114 (获取客户详情)
 */
export function createWecomContactReaction(deps: {
  wecom: WecomClient;
  contacts: ContactsService;
  wecomTags: WecomTagMirror;
  logger: Logger;
}): Reaction {
  return {
    name: 'wecom-contact',
    async prepare(interaction) {
      const { userId, externalUserId, scene } = interaction.detail;
      if (interaction.channel !== 'wecom' || typeof userId !== 'string' || typeof externalUserId !== 'string') return null;
      const changeType = interaction.type;
      const detail = DETAIL_CHANGES.has(changeType)
        ? await fetchOptional(deps.logger, () => deps.wecom.getExternalContact(externalUserId))
        : null;
      const follow = detail?.followUsers.find((f) => f.userId === userId) ?? null;
      const tags = changeType === 'edit_external_contact' && follow ? await deps.wecomTags.prepareReconcile(follow.tagIds) : null;
      return async (m, row, batch) => {
        if (row.contactId === null) return;
        let contactId = row.contactId;
        if (detail) {
          await deps.contacts.updateProfile(m, contactId, { name: detail.name, avatarUrl: detail.avatarUrl });
          if (detail.unionid) {
            contactId = await deps.contacts.linkIdentity(m, contactId, { kind: 'unionid', appId: '', value: detail.unionid });
            batch.recordMerge(row.contactId, contactId);
          }
          for (const f of detail.followUsers) await deps.contacts.addFollow(m, contactId, { userId: f.userId, state: f.state });
        }
        if (changeType === 'add_external_contact' || changeType === 'add_half_external_contact') {
          await deps.contacts.addFollow(m, contactId, { userId, state: typeof scene === 'string' ? scene : (follow?.state ?? null) });
        }
        if (RELATION_ENDS.has(changeType)) await deps.contacts.removeFollow(m, contactId, userId);
        if (tags) await tags(m, contactId);
      };
    },
  };
}
