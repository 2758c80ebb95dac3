import type { Reaction } from '../reactions/reaction';
import type { ScoringService } from './scoring.service';

/** Scores the batch's points in three statements, on the contacts as they are after the batch's merges. */
export function createScoringReaction(deps: { scoring: ScoringService }): Reaction {
  return {
    name: 'scoring',
    prepare: () => Promise.resolve(null),
    async finish(m, batch) {
      await deps.scoring.addPoints(
        m,
        batch.points.map((p) => ({ ...p, contactId: batch.survivorOf(p.contactId) ?? p.contactId })),
      );
    },
  };
}
