import type { DataSource, EntityManager } from 'typeorm';
import { LIFECYCLE_STAGES, type LifecycleStage } from '../../../entities/contact.entity';
import { ContactStageChange } from '../../../entities/contact-stage-change.entity';
import { StageRule } from '../../../entities/stage-rule.entity';
import type { Clock } from '../../adapters/clock';
import { insertedId, isMysqlManager, placeholders, toSqlDate } from '../../db/sql';
import type { Transactor } from '../../db/transaction';
import type { AuditActor, AuditService } from '../audit/audit.service';
import { countChanges, stageChange } from '../stats/stat-counters';

/** Who moves a stage. An operator's move is audited; a journey names itself. */
export type StageActor =
  | { kind: 'operator'; id: number | null; ip?: string | null }
  | { kind: 'journey'; id: number; name: string }
  | { kind: 'rule'; id: number; name: string }
  | { kind: 'system' };

/** One wanted move: to `stage`, for `contactId`, because of `actor` (and an interaction, for a rule). */
export interface StageMove {
  contactId: number;
  stage: LifecycleStage;
  actor: StageActor;
  interactionId?: number | null;
}

export interface SetStageParams {
  contactId: number;
  stage: LifecycleStage;
  by: StageActor;
  /** An operator's move is audited as `contact.set_stage`, or this (`sidebar.set_stage` from the WeCom sidebar). */
  auditAction?: string;
}

export type SetStageResult = { ok: true; from: LifecycleStage; to: LifecycleStage; changed: boolean } | { ok: false; reason: 'not_found' };

export interface StageRuleFields {
  interactionType: string;
  minCount: number;
  stage: LifecycleStage;
  enabled: boolean;
}

export interface StageRuleView extends StageRuleFields {
  id: number;
}

export interface LifecycleServiceDeps {
  dataSource: DataSource;
  transactor: Transactor;
  clock: Clock;
  audit: AuditService;
}

const rank = (stage: LifecycleStage): number => LIFECYCLE_STAGES.indexOf(stage);

/**
 * The AARRR stage and its history: stage rules move contacts forward only; an operator or a journey
 * may set any stage (`setStage`). Every move writes a `contact_stage_changes` row (from, to, who or
 * which rule, when) and the funnel's counters, in the transaction of the move.
 */
export class LifecycleService {
  private cache: { loadedAt: number; rules: Promise<StageRule[]> } | null = null;

  constructor(private readonly deps: LifecycleServiceDeps) {}

  /** For journeys' action nodes and the admin page: forward or back, in a transaction of its own. */
  async setStage(params: SetStageParams): Promise<SetStageResult> {
    return this.deps.transactor.runRetrying(async (manager) => {
      const moved = await this.moveStages(manager, [{ contactId: params.contactId, stage: params.stage, actor: params.by }], {
        forwardOnly: false,
      });
      const move = moved.get(params.contactId);
      if (!move) return { ok: false, reason: 'not_found' };
      if (params.by.kind === 'operator' && move.changed) {
        await this.deps.audit.record({
          manager,
          operatorId: params.by.id,
          ip: params.by.ip ?? null,
          action: params.auditAction ?? 'contact.set_stage',
          targetType: 'contact',
          targetId: params.contactId,
          detail: { from: move.from, to: move.to },
        });
      }
      return { ok: true, ...move };
    });
  }

  /**
   * Moves contacts' stages inside the caller's transaction: the rows are locked in id order and
   * read (a merged contact is skipped: its survivor is the one to move), each moved if the move is
   * allowed (forward only for rules), then one UPDATE per target stage, one INSERT of history and
   * the funnel's deltas. Returns, per contact found, where it was and where it is.
   */
  async moveStages(
    manager: EntityManager,
    moves: StageMove[],
    options: { forwardOnly: boolean },
  ): Promise<Map<number, { from: LifecycleStage; to: LifecycleStage; changed: boolean }>> {
    const result = new Map<number, { from: LifecycleStage; to: LifecycleStage; changed: boolean }>();
    if (moves.length === 0) return result;
    // The furthest move per contact wins (two rules in one batch).
    const wanted = new Map<number, StageMove>();
    for (const move of moves) {
      const before = wanted.get(move.contactId);
      if (!before || (options.forwardOnly && rank(move.stage) > rank(before.stage)) || !options.forwardOnly)
        wanted.set(move.contactId, move);
    }
    const ids = [...wanted.keys()].sort((a, b) => a - b);
    const rows: { id: number | string; stage: LifecycleStage }[] = await manager.query(
      `SELECT id, stage FROM contacts WHERE id IN (${placeholders(ids.length)}) AND merged_into_id IS NULL ORDER BY id${isMysqlManager(manager) ? ' FOR UPDATE' : ''}`,
      ids,
    );
    const now = this.deps.clock.now();
    const changes: { contactId: number; from: LifecycleStage; move: StageMove }[] = [];
    for (const row of rows) {
      const contactId = Number(row.id);
      const move = wanted.get(contactId);
      if (!move) continue;
      const allowed = options.forwardOnly ? rank(move.stage) > rank(row.stage) : move.stage !== row.stage;
      result.set(contactId, { from: row.stage, to: allowed ? move.stage : row.stage, changed: allowed });
      if (allowed) changes.push({ contactId, from: row.stage, move });
    }
    if (changes.length === 0) return result;
    for (const stage of LIFECYCLE_STAGES) {
      const to = changes.filter((c) => c.move.stage === stage).map((c) => c.contactId);
      if (to.length === 0) continue;
      await manager.query(`UPDATE contacts SET stage = ?, updated_at = ? WHERE id IN (${placeholders(to.length)})`, [
        stage,
        toSqlDate(now),
        ...to,
      ]);
    }
    await manager.insert(
      ContactStageChange,
      changes.map((c) => ({
        contactId: c.contactId,
        fromStage: c.from,
        toStage: c.move.stage,
        actorKind: c.move.actor.kind,
        actorId: c.move.actor.kind === 'system' ? null : c.move.actor.id,
        actorName: c.move.actor.kind === 'journey' || c.move.actor.kind === 'rule' ? c.move.actor.name.slice(0, 64) : null,
        interactionId: c.move.interactionId ?? null,
        at: now,
      })),
    );
    await countChanges(
      manager,
      changes.flatMap((c) => [stageChange(c.from, -1), stageChange(c.move.stage, 1)]),
    );
    return result;
  }

  /** The enabled stage rules, cached 2 s like the tag rules (read by every reactions batch). */
  async loadStageRules(): Promise<StageRule[]> {
    const now = this.deps.clock.now().getTime();
    if (!this.cache || now - this.cache.loadedAt > 2_000 || now < this.cache.loadedAt) {
      const cache = {
        loadedAt: now,
        rules: this.deps.dataSource.manager.find(StageRule, { where: { enabled: true }, order: { id: 'ASC' } }),
      };
      this.cache = cache;
      cache.rules.catch(() => {
        if (this.cache === cache) this.cache = null;
      });
    }
    return this.cache.rules;
  }

  async listStageRules(): Promise<StageRuleView[]> {
    const rules = await this.deps.dataSource.manager.find(StageRule, { order: { id: 'ASC' } });
    return rules.map(stageRuleView);
  }

  async createStageRule(params: { rule: StageRuleFields; actor: AuditActor }): Promise<StageRuleView> {
    const view = await this.deps.transactor.runRetrying(async (manager) => {
      const now = this.deps.clock.now();
      const inserted = await manager.insert(StageRule, { ...params.rule, createdAt: now, updatedAt: now });
      const rule = await manager.findOneByOrFail(StageRule, { id: insertedId(inserted.identifiers) });
      await this.auditRule(manager, params.actor, 'stage_rule.create', rule.id, { ...params.rule });
      return stageRuleView(rule);
    });
    this.cache = null;
    return view;
  }

  async updateStageRule(params: { id: number; changes: Partial<StageRuleFields>; actor: AuditActor }): Promise<StageRuleView | null> {
    const view = await this.deps.transactor.runRetrying(async (manager) => {
      const rule = await manager.findOneBy(StageRule, { id: params.id });
      if (!rule) return null;
      await manager.update(StageRule, { id: rule.id }, { ...params.changes, updatedAt: this.deps.clock.now() });
      await this.auditRule(manager, params.actor, 'stage_rule.update', rule.id, { ...params.changes });
      return stageRuleView(await manager.findOneByOrFail(StageRule, { id: rule.id }));
    });
    this.cache = null;
    return view;
  }

  async deleteStageRule(params: { id: number; actor: AuditActor }): Promise<boolean> {
    const deleted = await this.deps.transactor.runRetrying(async (manager) => {
      const rule = await manager.findOneBy(StageRule, { id: params.id });
      if (!rule) return false;
      await manager.delete(StageRule, { id: rule.id });
      await this.auditRule(manager, params.actor, 'stage_rule.delete', rule.id, {
        interactionType: rule.interactionType,
        stage: rule.stage,
      });
      return true;
    });
    this.cache = null;
    return deleted;
  }

  private async auditRule(
    manager: EntityManager,
    actor: AuditActor,
    action: string,
    id: number,
    detail: Record<string, string | number | boolean | null>,
  ): Promise<void> {
    await this.deps.audit.record({
      manager,
      operatorId: actor.operatorId,
      ip: actor.ip,
      action,
      targetType: 'stage_rule',
      targetId: id,
      detail,
    });
  }
}

function stageRuleView(rule: StageRule): StageRuleView {
  return { id: rule.id, interactionType: rule.interactionType, minCount: rule.minCount, stage: rule.stage, enabled: rule.enabled };
}
