import type { DataSource, EntityManager } from 'typeorm';
import { Not } from 'typeorm';
import { ScoreRule, type ScoreAttribute, type ScoreRuleKind } from '../../../entities/score-rule.entity';
import type { RuleMatchKind } from '../../../entities/tag-rule.entity';
import type { Clock } from '../../adapters/clock';
import { insertedId } from '../../db/sql';
import type { Transactor } from '../../db/transaction';
import { describeChanges, describeRecord, type AuditActor, type AuditService } from '../audit/audit.service';
import type { ScoringSettings, ScoringSettingsStore } from './scoring-settings';

/** A score rule's editable fields, complete. */
export interface ScoreRuleFields {
  name: string;
  enabled: boolean;
  kind: ScoreRuleKind;
  interactionType: string | null;
  matchKind: RuleMatchKind;
  matchValue: string | null;
  attribute: ScoreAttribute | null;
  attributeValue: string | null;
  points: number;
  dailyCap: number | null;
}

export interface ScoreRuleView extends ScoreRuleFields {
  id: number;
  createdAt: string;
  updatedAt: string;
}

export interface ScoreRuleIssue {
  path: string;
  code: string;
  message: string;
}

export type ScoreRuleResult<T> =
  | { ok: true; value: T }
  | { ok: false; reason: 'not_found' | 'duplicate_name' }
  | { ok: false; reason: 'invalid'; issues: ScoreRuleIssue[] };

export interface ScoreRulesServiceDeps {
  dataSource: DataSource;
  transactor: Transactor;
  clock: Clock;
  audit: AuditService;
  settings: ScoringSettingsStore;
  /** After each committed change: this instance's rule cache drops at once. */
  onRulesChanged?: () => void;
}

/** Operators' CRUD over score rules and the scoring settings; every change audited with what changed. */
export class ScoreRulesService {
  constructor(private readonly deps: ScoreRulesServiceDeps) {}

  async listScoreRules(): Promise<ScoreRuleView[]> {
    return (await this.deps.dataSource.manager.find(ScoreRule, { order: { id: 'ASC' } })).map(viewOf);
  }

  async createScoreRule(params: { rule: ScoreRuleFields; actor: AuditActor }): Promise<ScoreRuleResult<ScoreRuleView>> {
    const fields = normalize(params.rule);
    const issues = checkRule(fields);
    if (issues.length > 0) return { ok: false, reason: 'invalid', issues };
    return this.change(async (manager) => {
      if (await manager.existsBy(ScoreRule, { name: fields.name })) return { ok: false, reason: 'duplicate_name' };
      const now = this.deps.clock.now();
      const inserted = await manager.insert(ScoreRule, { ...fields, createdAt: now, updatedAt: now });
      const rule = await manager.findOneByOrFail(ScoreRule, { id: insertedId(inserted.identifiers) });
      await this.audit(manager, params.actor, 'score_rule.create', rule.id, describeRecord({ ...fields }));
      return { ok: true, value: viewOf(rule) };
    });
  }

  async updateScoreRule(params: {
    id: number;
    changes: Partial<ScoreRuleFields>;
    actor: AuditActor;
  }): Promise<ScoreRuleResult<ScoreRuleView>> {
    return this.change(async (manager) => {
      const current = await manager.findOneBy(ScoreRule, { id: params.id });
      if (!current) return { ok: false, reason: 'not_found' };
      const before = fieldsOf(current);
      const after = normalize({ ...before, ...stripUndefined(params.changes) });
      const issues = checkRule(after);
      if (issues.length > 0) return { ok: false, reason: 'invalid', issues };
      if (after.name !== before.name && (await manager.existsBy(ScoreRule, { name: after.name, id: Not(current.id) })))
        return { ok: false, reason: 'duplicate_name' };
      await manager.update(ScoreRule, { id: current.id }, { ...after, updatedAt: this.deps.clock.now() });
      await this.audit(manager, params.actor, 'score_rule.update', current.id, describeChanges({ ...before }, { ...after }));
      return { ok: true, value: viewOf(await manager.findOneByOrFail(ScoreRule, { id: current.id })) };
    });
  }

  async deleteScoreRule(params: { id: number; actor: AuditActor }): Promise<ScoreRuleResult<null>> {
    return this.change(async (manager) => {
      const current = await manager.findOneBy(ScoreRule, { id: params.id });
      if (!current) return { ok: false, reason: 'not_found' };
      await manager.delete(ScoreRule, { id: current.id });
      await this.audit(manager, params.actor, 'score_rule.delete', current.id, { name: current.name });
      return { ok: true, value: null };
    });
  }

  async readSettings(): Promise<ScoringSettings> {
    return this.deps.settings.readSettings();
  }

  async updateSettings(params: { settings: ScoringSettings; actor: AuditActor }): Promise<ScoringSettings> {
    return this.deps.transactor.runRetrying(async (manager) => {
      const before = await this.deps.settings.readSettings(manager);
      await this.deps.settings.writeSettings(manager, params.settings);
      await this.audit(manager, params.actor, 'scoring.settings', null, describeChanges(flatten(before), flatten(params.settings)));
      return params.settings;
    });
  }

  private async change<T>(work: (manager: EntityManager) => Promise<ScoreRuleResult<T>>): Promise<ScoreRuleResult<T>> {
    const result = await this.deps.transactor.runRetrying(work, {
      onDuplicate: (): ScoreRuleResult<T> => ({ ok: false, reason: 'duplicate_name' }),
    });
    if (result.ok) this.deps.onRulesChanged?.();
    return result;
  }

  private async audit(
    manager: EntityManager,
    actor: AuditActor,
    action: string,
    id: number | null,
    detail: Record<string, string | number | boolean | null | string[] | number[]>,
  ): Promise<void> {
    await this.deps.audit.record({
      manager,
      operatorId: actor.operatorId,
      ip: actor.ip,
      action,
      targetType: 'score_rule',
      targetId: id,
      detail,
    });
  }
}

/** A behaviour rule keeps only its matcher's fields, an attribute rule only its attribute's. */
function normalize(rule: ScoreRuleFields): ScoreRuleFields {
  const name = rule.name.trim();
  if (rule.kind === 'attribute')
    return {
      ...rule,
      name,
      interactionType: null,
      matchKind: 'any',
      matchValue: null,
      dailyCap: null,
      attributeValue: rule.attribute === 'source_prefix' ? (rule.attributeValue?.trim() ?? null) : null,
    };
  return {
    ...rule,
    name,
    attribute: null,
    attributeValue: null,
    matchValue: rule.matchKind === 'any' || !rule.matchValue ? null : rule.matchValue,
  };
}

function checkRule(rule: ScoreRuleFields): ScoreRuleIssue[] {
  const issues: ScoreRuleIssue[] = [];
  if (rule.name === '') issues.push({ path: 'name', code: 'too_small', message: 'name is required' });
  if (rule.kind === 'behaviour') {
    if (!rule.interactionType)
      issues.push({ path: 'interactionType', code: 'too_small', message: 'a behaviour rule names an interaction type' });
    if (rule.matchKind !== 'any' && !rule.matchValue)
      issues.push({ path: 'matchValue', code: 'match_value_required', message: 'this match kind needs a value' });
  } else {
    if (!rule.attribute) issues.push({ path: 'attribute', code: 'invalid_type', message: 'an attribute rule names an attribute' });
    if (rule.attribute === 'source_prefix' && !rule.attributeValue)
      issues.push({ path: 'attributeValue', code: 'match_value_required', message: 'a source prefix is required' });
  }
  return issues;
}

function stripUndefined(changes: Partial<ScoreRuleFields>): Partial<ScoreRuleFields> {
  return Object.fromEntries(Object.entries(changes).filter(([, v]) => v !== undefined));
}

function fieldsOf(rule: ScoreRule): ScoreRuleFields {
  return {
    name: rule.name,
    enabled: rule.enabled,
    kind: rule.kind,
    interactionType: rule.interactionType,
    matchKind: rule.matchKind,
    matchValue: rule.matchValue,
    attribute: rule.attribute,
    attributeValue: rule.attributeValue,
    points: rule.points,
    dailyCap: rule.dailyCap,
  };
}

function viewOf(rule: ScoreRule): ScoreRuleView {
  return { id: rule.id, ...fieldsOf(rule), createdAt: rule.createdAt.toISOString(), updatedAt: rule.updatedAt.toISOString() };
}

function flatten(s: ScoringSettings): Record<string, unknown> {
  return {
    mqlThreshold: s.mqlThreshold,
    decayMode: s.decay.mode,
    halfLifeDays: s.decay.halfLifeDays,
    pointsPerIdleWeek: s.decay.pointsPerIdleWeek,
    silentDays: s.silentDays,
  };
}
