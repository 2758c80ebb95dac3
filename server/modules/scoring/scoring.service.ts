import type { EntityManager } from 'typeorm';
import type { Clock } from '../../adapters/clock';
import { isUniqueViolation } from '../../db/migrate';
import { toSqlDate } from '../../db/sql';

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
    // The unique dedupe key is the check: no read first (this runs for every interaction).
    try {
      await manager.query(
        'INSERT INTO score_ledger (contact_id, points, reason, rule_id, interaction_id, dedupe_key, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
        [p.contactId, p.points, p.reason.slice(0, 255), p.ruleId ?? null, p.interactionId ?? null, p.dedupeKey, toSqlDate(this.deps.clock.now())],
      );
    } catch (error) {
      if (isUniqueViolation(error)) return false;
      throw error;
    }
    await manager.query('UPDATE contacts SET score = score + ? WHERE id = ?', [p.points, p.contactId]);
    return true;
  }
}
