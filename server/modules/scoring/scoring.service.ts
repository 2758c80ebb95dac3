import type { EntityManager } from 'typeorm';
import { Contact } from '../../../entities/contact.entity';
import { ScoreLedger } from '../../../entities/score-ledger.entity';
import type { Clock } from '../../adapters/clock';

export interface AddPointsParams {
  contactId: number;
  points: number;
  reason: string;
  ruleId?: number | null;
  interactionId?: number | null;
  /** Unique per cause (e.g. `rule:3:interaction:42`): the same cause never scores twice. */
  dedupeKey: string;
}

/** Scores move only through the ledger, so every point can be explained. */
export class ScoringService {
  constructor(private readonly deps: { clock: Clock }) {}

  /** Returns false when this cause was already scored. */
  async addPoints(manager: EntityManager, p: AddPointsParams): Promise<boolean> {
    if (p.points === 0) return false;
    const seen = await manager.exists(ScoreLedger, { where: { dedupeKey: p.dedupeKey } });
    if (seen) return false;
    await manager.insert(ScoreLedger, {
      contactId: p.contactId,
      points: p.points,
      reason: p.reason.slice(0, 255),
      ruleId: p.ruleId ?? null,
      interactionId: p.interactionId ?? null,
      dedupeKey: p.dedupeKey,
      createdAt: this.deps.clock.now(),
    });
    await manager.increment(Contact, { id: p.contactId }, 'score', p.points);
    return true;
  }
}
