import { defineReaction, type Reaction } from '../reactions/reaction';
import type { SalesAssignmentService } from '../sales/sales-assignment.service';
import type { ScoreRulesEngine } from './score-rules.engine';
import type { AddPointsParams, ScoringService } from './scoring.service';

interface ScoringState {
  points: AddPointsParams[];
  contacts: Set<number>;
}

/**
 * Score rules after the tag rules: behaviour points per interaction (capped rules take their day's
 * hit in the row's write), attribute points for the batch's contacts, all scored at the batch's
 * end in ScoringService's three statements; then the MQL threshold is checked for every contact of
 * the batch, whose score the tag rules' points may have moved too (their finish ran before this one).
 */
export function createScoringReaction(deps: {
  engine: ScoreRulesEngine;
  scoring: ScoringService;
  sales: SalesAssignmentService;
}): Reaction {
  return defineReaction<true, ScoringState>({
    name: 'score-rules',
    prepare: () => Promise.resolve(true),
    createState: () => ({ points: [], contacts: new Set() }),
    async write(m, row, _prepared, state) {
      if (row.contactId === null) return;
      state.contacts.add(row.contactId);
      const { interaction } = row;
      await deps.engine.collectBehaviourPoints(
        m,
        {
          contactId: row.contactId,
          interactionId: interaction.id,
          type: interaction.type,
          detail: interaction.detail,
          occurredAt: interaction.occurredAt,
        },
        state.points,
      );
    },
    async finish(m, state, batch) {
      const contacts = batch.survivors(state.contacts);
      await deps.engine.collectAttributePoints(m, contacts, state.points);
      await deps.scoring.addPoints(
        m,
        state.points.map((p) => ({ ...p, contactId: batch.survivorOf(p.contactId) ?? p.contactId })),
      );
      await deps.sales.checkThreshold(m, contacts);
    },
  });
}
