import type { DataSource, EntityManager } from 'typeorm';
import type { InteractionDetail } from '../../../entities/interaction.entity';
import { ScoreRule, type ScoreAttribute } from '../../../entities/score-rule.entity';
import type { Clock } from '../../adapters/clock';
import { executeCountingRows, isMysqlManager, placeholders } from '../../db/sql';
import { getUtcOffsetMinutes } from '../reports/business-day';
import { matchInteraction } from '../tag-rules/tag-rules.engine';
import type { AddPointsParams } from './scoring.service';

/** One interaction being scored, on its contact as the batch sees it. */
export interface ScoredInteraction {
  contactId: number;
  interactionId: number;
  type: string;
  detail: InteractionDetail;
  occurredAt: Date;
}

/**
 * Score rules at work: behaviour rules recognise interactions with the tag rules' matcher
 * (matchInteraction) and may be capped per contact per business day; attribute rules score each
 * contact once (the ledger key `score_rule:<rule>:contact:<contact>`), found by set-based SELECTs.
 * Points are gathered for ScoringService.addPoints, which writes the ledger and the scores.
 */
export class ScoreRulesEngine {
  private cache: { loadedAt: number; rules: Promise<ScoreRule[]> } | null = null;
  private readonly cacheMs: number;

  /** Rules are cached like tag rules (2 s): configuration, read by every batch; a change here drops it. */
  constructor(private readonly deps: { dataSource: DataSource; clock: Clock; timezone: string; cacheMs?: number }) {
    this.cacheMs = deps.cacheMs ?? 2_000;
  }

  invalidate(): void {
    this.cache = null;
  }

  /** `manager`: the caller's transaction, read through it (why: TagRulesEngine.loadRules). */
  private async loadRules(manager: EntityManager): Promise<ScoreRule[]> {
    const now = this.deps.clock.now().getTime();
    if (!this.cache || now - this.cache.loadedAt > this.cacheMs || now < this.cache.loadedAt) {
      const cache = {
        loadedAt: now,
        rules: manager.find(ScoreRule, { where: { enabled: true }, order: { id: 'ASC' } }),
      };
      this.cache = cache;
      cache.rules.catch(() => {
        if (this.cache === cache) this.cache = null;
      });
    }
    return this.cache.rules;
  }

  /**
   * Adds to `points` what the behaviour rules give this interaction. A capped rule takes one of the
   * day's hits first (takeDailyHit) and gives nothing when they are spent; an interaction already
   * in the ledger (a replay) takes no hit.
   */
  async collectBehaviourPoints(manager: EntityManager, p: ScoredInteraction, points: AddPointsParams[]): Promise<void> {
    for (const rule of await this.loadRules(manager)) {
      if (rule.kind !== 'behaviour' || !matchInteraction(rule, { type: p.type, detail: p.detail })) continue;
      const dedupeKey = `score_rule:${rule.id}:interaction:${p.interactionId}`;
      if (rule.dailyCap !== null) {
        const scored: unknown[] = await manager.query('SELECT 1 FROM score_ledger WHERE dedupe_key = ?', [dedupeKey]);
        if (scored.length > 0) continue;
        if (!(await this.takeDailyHit(manager, { ruleId: rule.id, contactId: p.contactId, cap: rule.dailyCap, at: p.occurredAt })))
          continue;
      }
      points.push({
        contactId: p.contactId,
        points: rule.points,
        reason: `${rule.name} (${p.type})`,
        interactionId: p.interactionId,
        dedupeKey,
      });
    }
  }

  /**
   * One hit of a capped rule for a contact on the interaction's business day, if any is left: the
   * day's row is inserted if missing, then taken by a conditional UPDATE (`hits < cap`). On MySQL
   * the UPDATE waits for another instance's uncommitted hit and then sees it, so two instances
   * never take more than the cap between them; SQLite has one writer.
   */
  async takeDailyHit(manager: EntityManager, p: { ruleId: number; contactId: number; cap: number; at: Date }): Promise<boolean> {
    if (p.cap <= 0) return false;
    const day = businessDayOf(p.at, this.deps.timezone);
    const ignore = isMysqlManager(manager) ? 'INSERT IGNORE' : 'INSERT OR IGNORE';
    await manager.query(`${ignore} INTO score_rule_daily_hits (rule_id, contact_id, day, hits) VALUES (?, ?, ?, 0)`, [
      p.ruleId,
      p.contactId,
      day,
    ]);
    const taken = await executeCountingRows(
      manager,
      'UPDATE score_rule_daily_hits SET hits = hits + 1 WHERE rule_id = ? AND contact_id = ? AND day = ? AND hits < ?',
      [p.ruleId, p.contactId, day, p.cap],
    );
    return taken === 1;
  }

  /**
   * Adds to `points` the attribute rules' points these contacts have earned and not yet been given
   * (one SELECT per rule for the whole set: a batch's contacts, or a page of the daily job's).
   */
  async collectAttributePoints(manager: EntityManager, contactIds: number[], points: AddPointsParams[]): Promise<void> {
    const rules = (await this.loadRules(manager)).filter((r) => r.kind === 'attribute' && r.attribute !== null);
    if (rules.length === 0 || contactIds.length === 0) return;
    const concat = (prefix: string) => (isMysqlManager(manager) ? `CONCAT('${prefix}', c.id)` : `('${prefix}' || c.id)`);
    for (const rule of rules) {
      const prefix = `score_rule:${rule.id}:contact:`;
      const value = rule.attribute === 'source_prefix' ? [`${(rule.attributeValue ?? '').replace(/[!%_]/g, (ch) => `!${ch}`)}%`] : [];
      const rows: { id: number | string }[] = await manager.query(
        `SELECT c.id FROM contacts c WHERE c.merged_into_id IS NULL AND c.id IN (${placeholders(contactIds.length)})
          AND ${attributeCondition(rule.attribute as ScoreAttribute)}
          AND NOT EXISTS (SELECT 1 FROM score_ledger l WHERE l.dedupe_key = ${concat(prefix)}) ORDER BY c.id`,
        [...contactIds, ...value],
      );
      points.push(
        ...rows.map((r) => ({
          contactId: Number(r.id),
          points: rule.points,
          reason: `${rule.name} (${rule.attribute ?? ''})`,
          dedupeKey: `${prefix}${Number(r.id)}`,
        })),
      );
    }
  }
}

/** The SQL that holds when a contact has the attribute (over contacts `c`); source_prefix takes one LIKE parameter. */
function attributeCondition(attribute: ScoreAttribute): string {
  switch (attribute) {
    case 'has_phone':
      return "(c.phone IS NOT NULL OR EXISTS (SELECT 1 FROM contact_identities i WHERE i.contact_id = c.id AND i.kind = 'phone'))";
    case 'follows_oa':
      return "EXISTS (SELECT 1 FROM contact_identities i WHERE i.contact_id = c.id AND i.kind = 'oa_openid')";
    case 'follows_wecom':
      return "EXISTS (SELECT 1 FROM contact_follows f WHERE f.contact_id = c.id AND f.status = 'active')";
    case 'source_prefix':
      return "c.first_source LIKE ? ESCAPE '!'";
  }
}

/** `YYYY-MM-DD` of an instant in the business time zone. */
export function businessDayOf(at: Date, timezone: string): string {
  return new Date(at.getTime() + getUtcOffsetMinutes(timezone, at) * 60_000).toISOString().slice(0, 10);
}
