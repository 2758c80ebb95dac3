import type { Reaction } from '../reactions/reaction';
import type { TagRulesEngine } from './tag-rules.engine';

/** The operators' tag rules: tags added and removed now, points handed to scoring for the batch. */
export function createTagRulesReaction(deps: { rules: TagRulesEngine }): Reaction {
  return {
    name: 'tag-rules',
    prepare(interaction) {
      return Promise.resolve(async (m, row, batch) => {
        if (row.contactId === null) return;
        await deps.rules.applyRules(
          m,
          { contactId: row.contactId, interactionId: interaction.id, type: interaction.type, detail: interaction.detail },
          batch.points,
        );
      });
    },
  };
}
