import type { Reaction } from '../reactions/reaction';
import type { ContactsService } from './contacts.service';

/**
 * First- and last-touch source: the channel code a contact came through. A QR scene (Official
 * Account subscribe or scan) or a contact-way `state` (WeCom add) names it; without one, the
 * platform itself is the source.
 */
const SOURCE_TYPES: Record<string, string> = {
  subscribe: 'oa',
  scan: 'oa',
  add_external_contact: 'wecom',
  add_half_external_contact: 'wecom',
};

export function createSourceReaction(deps: { contacts: ContactsService }): Reaction {
  return {
    name: 'source',
    prepare(interaction) {
      const fallback = SOURCE_TYPES[interaction.type];
      if (fallback === undefined || interaction.channel !== fallback) return Promise.resolve(null);
      const scene = interaction.detail.scene;
      const source = typeof scene === 'string' && scene !== '' ? scene : fallback;
      return Promise.resolve(async (m, row) => {
        if (row.contactId !== null) await deps.contacts.recordSource(m, row.contactId, source, interaction.occurredAt);
      });
    },
  };
}
