import { defineReaction, type Reaction } from '../reactions/reaction';
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

/** What the batch's rows gathered, for one statement each at its end. */
interface ActivityState {
  /** Contacts to move to `activated`. */
  readonly activated: Set<number>;
  /** Each contact's newest interaction in the batch. */
  readonly latest: Map<number, Date>;
}

/**
 * Whatever a contact did moves their last-interaction time forward (the active/silent split of
 * segments and the dashboard), and engagement moves a new contact to `activated`; both in one
 * statement per batch.
 */
export function createActivityReaction(deps: { contacts: ContactsService }): Reaction {
  return defineReaction<true, ActivityState>({
    name: 'activity',
    prepare: () => Promise.resolve(true),
    createState: () => ({ activated: new Set(), latest: new Map() }),
    write(_m, row, _prepared, state) {
      const { interaction, contactId } = row;
      if (contactId === null) return Promise.resolve();
      if (ACTIVE_TYPES.has(interaction.type)) state.activated.add(contactId);
      const before = state.latest.get(contactId);
      if (!before || before < interaction.occurredAt) state.latest.set(contactId, interaction.occurredAt);
      return Promise.resolve();
    },
    async finish(m, state, batch) {
      // A contact merged by a later row of the batch lives on in its survivor.
      await deps.contacts.advanceStage(m, batch.survivors(state.activated), 'activated');
      const bySurvivor = new Map<number, Date>();
      for (const [id, at] of state.latest) {
        const survivor = batch.survivorOf(id) ?? id;
        const before = bySurvivor.get(survivor);
        if (!before || before < at) bySurvivor.set(survivor, at);
      }
      await deps.contacts.touchLastInteraction(m, bySurvivor);
    },
  });
}
