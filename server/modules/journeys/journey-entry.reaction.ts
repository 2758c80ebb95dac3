import { defineReaction, type Reaction } from '../reactions/reaction';
import type { JourneysService } from './journeys.service';

/**
 * Journeys' entries and goals, from the reaction chain: an inbound interaction that starts a
 * journey or meets a run's goal, and `segment_entered` (outbound: the segments module records it),
 * which only this reaction asks a work row for.
 */
export function createJourneyEntryReactions(deps: { journeys: JourneysService }): Reaction[] {
  const reaction = (name: string, handles: Reaction['handles']) =>
    defineReaction<true>({
      name,
      handles,
      prepare: async (interaction) => ((await deps.journeys.wantsInteraction(interaction.type)) ? true : null),
      async write(m, row) {
        if (row.contactId === null) return;
        const { interaction } = row;
        await deps.journeys.reactToInteraction(m, {
          contactId: row.contactId,
          interactionId: interaction.id,
          type: interaction.type,
          detail: interaction.detail,
          direction: interaction.direction,
        });
      },
    });
  return [
    reaction('journey-entry', { directions: ['in'] }),
    reaction('journey-segment-entry', { directions: ['out'], types: ['segment_entered'] }),
  ];
}
