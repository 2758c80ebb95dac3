import type { EntityManager } from 'typeorm';
import type { Clock } from '../../adapters/clock';
import { placeholders, toSqlDate } from '../../db/sql';

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

  /**
   * Scores many causes in three statements, whatever their number (the reactions worker scores a
   * batch at once): the causes already in the ledger are skipped, the rest inserted in one
   * statement, and each contact's score moved by its sum. Returns how many causes scored.
   */
  async addPoints(manager: EntityManager, entries: AddPointsParams[]): Promise<number> {
    const candidates = entries.filter((e) => e.points !== 0);
    if (candidates.length === 0) return 0;
    const keys = candidates.map((e) => e.dedupeKey);
    const seen: { dedupe_key: string }[] = await manager.query(
      `SELECT dedupe_key FROM score_ledger WHERE dedupe_key IN (${placeholders(keys.length)})`,
      keys,
    );
    const taken = new Set(seen.map((r) => r.dedupe_key));
    const fresh: AddPointsParams[] = [];
    for (const e of candidates) {
      if (taken.has(e.dedupeKey)) continue;
      taken.add(e.dedupeKey);
      fresh.push(e);
    }
    if (fresh.length === 0) return 0;
    const now = toSqlDate(this.deps.clock.now());
    await manager.query(
      `INSERT INTO score_ledger (contact_id, points, reason, rule_id, interaction_id, dedupe_key, created_at) VALUES ${fresh.map(() => '(?, ?, ?, ?, ?, ?, ?)').join(',')}`,
      fresh.flatMap((e) => [e.contactId, e.points, e.reason.slice(0, 255), e.ruleId ?? null, e.interactionId ?? null, e.dedupeKey, now]),
    );
    const sums = new Map<number, number>();
    for (const e of fresh) sums.set(e.contactId, (sums.get(e.contactId) ?? 0) + e.points);
    const ids = [...sums.keys()];
    await manager.query(
      `UPDATE contacts SET score = score + CASE id ${ids.map(() => 'WHEN ? THEN ?').join(' ')} END WHERE id IN (${placeholders(ids.length)})`,
      [...ids.flatMap((id) => [id, sums.get(id) ?? 0]), ...ids],
    );
    return fresh.length;
  }
}
