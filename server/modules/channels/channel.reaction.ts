import { In } from 'typeorm';
import { Tag } from '../../../entities/tag.entity';
import { isUniqueViolation } from '../../db/errors';
import { fromSqlDate, toSqlDate } from '../../db/sql';
import type { Reaction } from '../reactions/reaction';
import type { ContactTagsService } from '../tags/contact-tags.service';
import type { ContactsService } from '../contacts/contacts.service';
import { CHANNEL_VISIT_TYPE } from './channel-scene';
import type { ChannelWelcomeSender } from './channel-welcome';
import type { ChannelsService } from './channels.service';

/**
 * A scan, add or visit through a channel code (the interaction's `detail.channelId`, set from the
 * `ch:<id>` scene when the callback was mapped): its touch row (the stats), the channel's tags
 * through ContactTagsService (synced to the platforms like any tag change), and for a WeCom add
 * with a WelcomeCode the channel's welcome, sent in `prepare` (outside the transaction: it is a
 * platform call, claimed by its code so a replay sends nothing).
 * First and last touch are the source reaction's (contacts.first_source = the scene) for scans and
 * adds, and this reaction's for visits (`channel_visit`); the source reaction runs before this
 * one, so `newContact` reads what it wrote in the same transaction.
 */
export function createChannelReaction(deps: {
  channels: ChannelsService;
  contacts: ContactsService;
  contactTags: ContactTagsService;
  welcomes: ChannelWelcomeSender | null;
}): Reaction {
  return {
    name: 'channels',
    async prepare(interaction) {
      const channelId = interaction.detail.channelId;
      if (typeof channelId !== 'number') return null;
      const channel = await deps.channels.findChannelRef(channelId);
      if (!channel) return null;
      const welcomeCode = interaction.detail.welcomeCode;
      if (
        deps.welcomes &&
        interaction.channel === 'wecom' &&
        interaction.type === 'add_external_contact' &&
        typeof welcomeCode === 'string' &&
        welcomeCode !== '' &&
        channel.welcome
      ) {
        await deps.welcomes.send({
          welcomeCode,
          channelId,
          interactionId: interaction.id,
          text: channel.welcome,
          occurredAt: interaction.occurredAt,
        });
      }
      return async (m, row) => {
        // The source reaction knows the platforms' own events; a visit's touch is recorded here.
        if (interaction.type === CHANNEL_VISIT_TYPE && row.contactId !== null)
          await deps.contacts.recordSource(m, row.contactId, channel.scene, interaction.occurredAt);
        let newContact = false;
        if (row.contactId !== null) {
          const found = await m.query<{ first_source: string | null; first_source_at: unknown }[]>(
            'SELECT first_source, first_source_at FROM contacts WHERE id = ?',
            [row.contactId],
          );
          const contact = found[0];
          newContact =
            contact !== undefined &&
            contact.first_source === channel.scene &&
            contact.first_source_at !== null &&
            fromSqlDate(contact.first_source_at).getTime() === interaction.occurredAt.getTime();
          // CreateTime has whole seconds: a subscribe and a SCAN in the same second share the first
          // touch's time, and only the first of them brought the contact.
          if (newContact) {
            const counted = await m.query<{ n: number | string }[]>(
              'SELECT COUNT(*) AS n FROM channel_touches WHERE channel_id = ? AND contact_id = ? AND new_contact = 1 AND interaction_id <> ?',
              [channelId, row.contactId, interaction.id],
            );
            newContact = Number(counted[0]?.n ?? 0) === 0;
          }
        }
        try {
          await m.query(
            'INSERT INTO channel_touches (interaction_id, channel_id, contact_id, type, new_contact, occurred_at) VALUES (?, ?, ?, ?, ?, ?)',
            [
              interaction.id,
              channelId,
              row.contactId,
              interaction.type.slice(0, 48),
              newContact ? 1 : 0,
              toSqlDate(interaction.occurredAt),
            ],
          );
        } catch (error) {
          // Already counted (a replay after the touch committed): the tags are a no-op too.
          if (!isUniqueViolation(error)) throw error;
        }
        if (row.contactId === null || channel.tagIds.length === 0) return;
        const tags = await m.find(Tag, { where: { id: In(channel.tagIds) } });
        if (tags.length === 0) return;
        await deps.contactTags.applyTags(m, {
          contactId: row.contactId,
          add: tags,
          remove: [],
          actor: { kind: 'system' },
          cause: 'channel',
          interactionId: interaction.id,
        });
      };
    },
  };
}
