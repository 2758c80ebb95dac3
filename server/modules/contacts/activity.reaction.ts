import type { Reaction } from '../reactions/reaction';
import type { ContactsService } from './contacts.service';

/** Interactions that show the contact is engaged (AARRR "activated"). */
const ACTIVE_TYPES = new Set([
  'text',
  'image',
  'voice',
  'video',
  'shortvideo',
  'location',
  'link',
  'click',
  'view',
  'scan',
  'menu_scan',
  'menu_pics',
  'menu_location',
  'view_miniprogram',
]);

/**
 * Whatever a contact did moves their last-interaction time forward (the active/silent split of
 * segments and the dashboard), and engagement moves a new contact to `activated`; both in one
 * statement per batch.
 */
export function createActivityReaction(deps: { contacts: ContactsService }): Reaction {
  return {
    name: 'activity',
    prepare(interaction) {
      return Promise.resolve((_m, row, batch) => {
        if (row.contactId === null) return Promise.resolve();
        if (ACTIVE_TYPES.has(interaction.type)) batch.activated.add(row.contactId);
        const before = batch.latestInteraction.get(row.contactId);
        if (!before || before < interaction.occurredAt) batch.latestInteraction.set(row.contactId, interaction.occurredAt);
        return Promise.resolve();
      });
    },
    async finish(m, batch) {
      const survivors = (ids: Iterable<number>) => [...new Set([...ids].map((id) => batch.survivorOf(id) ?? id))];
      await deps.contacts.advanceStage(m, survivors(batch.activated), 'activated');
      const bySurvivor = new Map<number, Date>();
      for (const [id, at] of batch.latestInteraction) {
        const survivor = batch.survivorOf(id) ?? id;
        const before = bySurvivor.get(survivor);
        if (!before || before < at) bySurvivor.set(survivor, at);
      }
      await deps.contacts.touchLastInteraction(m, bySurvivor);
    },
  };
}
