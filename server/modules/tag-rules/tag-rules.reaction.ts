import { defineReaction, type Reaction } from '../reactions/reaction';
import type { AddPointsParams, ScoringService } from '../scoring/scoring.service';
import type { TagRulesEngine } from './tag-rules.engine';

/**
 * The operators' tag rules: tags added and removed row by row, and the points they give gathered
 * for the batch and scored at its end in three statements (ScoringService.addPoints), on the
 * contacts as they are after the batch's merges.
 */
export function createTagRulesReaction(deps: { rules: TagRulesEngine; scoring: ScoringService }): Reaction {
  return defineReaction<true, AddPointsParams[]>({
    name: 'tag-rules',
    prepare: () => Promise.resolve(true),
    createState: () => [],
    async write(m, row, _prepared, points) {
      if (row.contactId === null) return;
      const { interaction } = row;
      await deps.rules.applyRules(
        m,
        { contactId: row.contactId, interactionId: interaction.id, type: interaction.type, detail: interaction.detail },
        points,
      );
    },
    async finish(m, points, batch) {
      await deps.scoring.addPoints(
        m,
        points.map((p) => ({ ...p, contactId: batch.survivorOf(p.contactId) ?? p.contactId })),
      );
    },
  });
}
