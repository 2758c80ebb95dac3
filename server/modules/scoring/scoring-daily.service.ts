import type { DataSource, EntityManager } from 'typeorm';
import type { Clock } from '../../adapters/clock';
import { isMysqlManager, toSqlDate } from '../../db/sql';
import type { Transactor } from '../../db/transaction';
import type { SalesAssignmentService } from '../sales/sales-assignment.service';
import { businessDayOf, type ScoreRulesEngine } from './score-rules.engine';
import type { AddPointsParams, ScoringService } from './scoring.service';
import type { ScoringSettingsStore } from './scoring-settings';

/** Contact ids per transaction of the daily decay. */
const ID_RANGE = 1_000;
const DAY_MS = 86_400_000;

export interface ScoringDailyServiceDeps {
  dataSource: DataSource;
  transactor: Transactor;
  clock: Clock;
  timezone: string;
  settings: ScoringSettingsStore;
  sales: SalesAssignmentService;
  engine: ScoreRulesEngine;
  scoring: ScoringService;
}

/**
 * Scores fade (issue 14 §1), by a daily job in set-based SQL, each loss a ledger entry so every
 * point is explained. `half_life`: each day a positive score loses round(score × (1 − 0.5^(1/h))),
 * at least 1 point and never below 0, so a score halves in about h days and small scores still
 * reach 0. `idle_weekly`: a contact with no inbound interaction for 7 days (or, never heard from,
 * created 7 days ago) loses P points once per business week, never below 0. The ledger key
 * (`decay:<day>:<contact>`, `decay:w<monday>:<contact>`) makes a second run of the day a no-op.
 * A range of 1,000 contact ids per transaction: one SELECT, then addPoints' three statements.
 */
export class ScoringDailyService {
  constructor(private readonly deps: ScoringDailyServiceDeps) {}

  /**
   * The daily job: decay, then the attribute rules over every live contact (attributes that
   * changed without an interaction: a phone an operator typed), then the MQL threshold for those
   * who gained. Returns how many contacts lost points.
   */
  async runDaily(): Promise<number> {
    const decayed = await this.runDecay();
    await this.scoreAllAttributes();
    return decayed;
  }

  /**
   * Attribute points every live contact has earned and not been given: a page of 1,000 contact ids
   * per transaction (their SELECTs, addPoints, the threshold), so a first run over a million
   * contacts is a thousand short transactions, not one statement of a million rows.
   */
  async scoreAllAttributes(): Promise<number> {
    let scored = 0;
    for (let after = 0; ;) {
      const page: { id: number | string }[] = await this.deps.dataSource.query(
        `SELECT id FROM contacts WHERE merged_into_id IS NULL AND id > ? ORDER BY id LIMIT ${ID_RANGE}`,
        [after],
      );
      if (page.length === 0) return scored;
      const ids = page.map((r) => Number(r.id));
      after = ids[ids.length - 1];
      scored += await this.deps.transactor.runRetrying(async (m) => {
        const points: AddPointsParams[] = [];
        await this.deps.engine.collectAttributePoints(m, ids, points);
        const added = await this.deps.scoring.addPoints(m, points);
        await this.deps.sales.checkThreshold(m, [...new Set(points.map((p) => p.contactId))]);
        return added;
      });
    }
  }

  /** Returns how many contacts lost points. */
  async runDecay(): Promise<number> {
    const settings = await this.deps.settings.readSettings();
    const { decay } = settings;
    if (decay.mode === 'none') return 0;
    const now = this.deps.clock.now();
    const day = businessDayOf(now, this.deps.timezone);
    const [{ top }]: { top: number | string | null }[] = await this.deps.dataSource.query('SELECT MAX(id) AS top FROM contacts');
    let decayed = 0;
    for (let from = 0; from < Number(top ?? 0); from += ID_RANGE) {
      decayed += await this.deps.transactor.runRetrying((m) =>
        decay.mode === 'half_life'
          ? this.decayRange(m, {
              from,
              prefix: `decay:${day}:`,
              reason: `decay:half_life:${decay.halfLifeDays}`,
              // round(score × share), at least 1, at most the score.
              loss: 'CASE WHEN c.score <= 1 THEN c.score WHEN ROUND(c.score * ?) < 1 THEN 1 ELSE ROUND(c.score * ?) END',
              lossParams: [1 - 0.5 ** (1 / decay.halfLifeDays), 1 - 0.5 ** (1 / decay.halfLifeDays)],
              extra: '',
              extraParams: [],
            })
          : this.decayRange(m, {
              from,
              prefix: `decay:w${weekStartOf(day)}:`,
              reason: `decay:idle_weekly:${decay.pointsPerIdleWeek}`,
              loss: 'CASE WHEN c.score < ? THEN c.score ELSE ? END',
              lossParams: [decay.pointsPerIdleWeek, decay.pointsPerIdleWeek],
              extra: ' AND (c.last_interaction_at < ? OR (c.last_interaction_at IS NULL AND c.created_at < ?))',
              extraParams: [toSqlDate(new Date(now.getTime() - 7 * DAY_MS)), toSqlDate(new Date(now.getTime() - 7 * DAY_MS))],
            }),
      );
    }
    // Scores only fell: contacts now under the MQL threshold are armed for their next crossing.
    await this.deps.transactor.runRetrying((m) => this.deps.sales.rearmBelowThreshold(m));
    return decayed;
  }

  /**
   * One range of contact ids: one SELECT finds who loses what (by the mode's SQL expression, the
   * key not yet in the ledger), and ScoringService.addPoints writes the entries and moves the
   * scores in its three statements.
   */
  private async decayRange(
    manager: EntityManager,
    p: { from: number; prefix: string; reason: string; loss: string; lossParams: number[]; extra: string; extraParams: unknown[] },
  ): Promise<number> {
    const key = isMysqlManager(manager) ? 'CONCAT(?, c.id)' : '(? || c.id)';
    const rows: { id: number | string; loss: number | string }[] = await manager.query(
      `SELECT c.id, ${p.loss} AS loss FROM contacts c
        WHERE c.id > ? AND c.id <= ? AND c.merged_into_id IS NULL AND c.score > 0${p.extra}
          AND NOT EXISTS (SELECT 1 FROM score_ledger l WHERE l.dedupe_key = ${key}) ORDER BY c.id`,
      [...p.lossParams, p.from, p.from + ID_RANGE, ...p.extraParams, p.prefix],
    );
    return this.deps.scoring.addPoints(
      manager,
      rows.map((r) => ({
        contactId: Number(r.id),
        points: -Math.round(Number(r.loss)),
        reason: p.reason,
        dedupeKey: `${p.prefix}${Number(r.id)}`,
      })),
    );
  }
}

/** The Monday of a `YYYY-MM-DD` business day: one idle-week loss per calendar week. */
function weekStartOf(day: string): string {
  const date = new Date(`${day}T00:00:00Z`);
  const sinceMonday = (date.getUTCDay() + 6) % 7;
  return new Date(date.getTime() - sinceMonday * DAY_MS).toISOString().slice(0, 10);
}
