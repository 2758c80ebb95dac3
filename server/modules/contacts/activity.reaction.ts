import { defineReaction, type Reaction } from '../reactions/reaction';
import type { ContactsService } from './contacts.service';

/** What the batch's rows gathered, for one statement each at its end. */
interface ActivityState {
  /** Each contact's newest interaction in the batch. */
  readonly latest: Map<number, Date>;
}

/**
 * Whatever a contact did moves their last-interaction time forward (the active/silent split of
 * segments and the dashboard), in one statement per batch. The stage is the lifecycle's stage
 * rules' (modules/lifecycle), which keep its history; their defaults activate on what activated here.
 */
export function createActivityReaction(deps: { contacts: ContactsService }): Reaction {
  return defineReaction<true, ActivityState>({
    name: 'activity',
    prepare: () => Promise.resolve(true),
    createState: () => ({ latest: new Map() }),
    write(_m, row, _prepared, state) {
      const { interaction, contactId } = row;
      if (contactId === null) return Promise.resolve();
      const before = state.latest.get(contactId);
      if (!before || before < interaction.occurredAt) state.latest.set(contactId, interaction.occurredAt);
      return Promise.resolve();
    },
    async finish(m, state, batch) {
      // A contact merged by a later row of the batch lives on in its survivor.
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
