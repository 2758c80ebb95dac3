import type { DataSource, EntityManager } from 'typeorm';
import { Not } from 'typeorm';
import { TagGroup } from '../../../entities/tag-group.entity';
import { tagNameProblemsOf, type TagNameProblem } from '../../../web/shared/field-rules';
import { interactionTypeOf, matcherFits, NUMERIC_MATCHERS, type MatcherKind } from '../../../web/shared/interaction-types';
import { TagRule, type NewsArticle, type RuleMatchKind, type TagRef } from '../../../entities/tag-rule.entity';
import type { Clock } from '../../adapters/clock';
import { insertedId } from '../../db/sql';
import { Transactor } from '../../db/transaction';
import { describeChanges, describeRecord, type AuditActor, type AuditService } from '../audit/audit.service';

/** A rule's editable fields, complete. */
export interface TagRuleFields {
  name: string;
  enabled: boolean;
  priority: number;
  interactionType: string;
  matchKind: RuleMatchKind;
  matchValue: string | null;
  addTags: TagRef[];
  removeTags: TagRef[];
  scorePoints: number;
  replyText: string | null;
  replyNews: NewsArticle[] | null;
}

/** What a new rule needs; the rest has defaults (enabled, priority 100, no tags, no points, no reply). */
export type TagRuleDraft = Pick<TagRuleFields, 'name' | 'interactionType' | 'matchKind'> & Partial<TagRuleFields>;

export interface TagRuleView extends TagRuleFields {
  id: number;
  createdAt: string;
  updatedAt: string;
}

export interface TagRuleIssue {
  path: string;
  message: string;
  /** A named rule the page translates (validate-input.ts InputIssue), when there is one. */
  code?: string;
  params?: Record<string, string | number>;
}

export type TagRuleResult<T> =
  { ok: true; value: T } | { ok: false; reason: 'not_found' | 'duplicate_name' } | { ok: false; reason: 'invalid'; issues: TagRuleIssue[] };

export interface CreateTagRuleParams {
  rule: TagRuleDraft;
  actor: AuditActor;
}

export interface UpdateTagRuleParams {
  id: number;
  changes: Partial<TagRuleFields>;
  actor: AuditActor;
}

export interface DeleteTagRuleParams {
  id: number;
  actor: AuditActor;
}

export interface TagRulesServiceDeps {
  dataSource: DataSource;
  clock: Clock;
  audit: AuditService;
  /** The application's shared Transactor (SQLite needs one queue per connection). */
  transactor?: Transactor;
  /** Called after every committed change, so this instance's rule cache drops at once. */
  onRulesChanged?: () => void;
}

/** Operators' CRUD over tag rules; every change is audited with what changed. */
export class TagRulesService {
  private readonly transactor: Transactor;

  constructor(private readonly deps: TagRulesServiceDeps) {
    this.transactor = deps.transactor ?? new Transactor(deps.dataSource);
  }

  /** In the order the rule engine applies them: priority, then age. */
  async listTagRules(): Promise<TagRuleView[]> {
    const rules = await this.deps.dataSource.manager.find(TagRule, { order: { priority: 'ASC', id: 'ASC' } });
    return rules.map(toRuleView);
  }

  async getTagRule(id: number): Promise<TagRuleView | null> {
    const rule = await this.deps.dataSource.manager.findOneBy(TagRule, { id });
    return rule ? toRuleView(rule) : null;
  }

  async createTagRule(params: CreateTagRuleParams): Promise<TagRuleResult<TagRuleView>> {
    const fields = normalizeRule({
      enabled: true,
      priority: 100,
      matchValue: null,
      addTags: [],
      removeTags: [],
      scorePoints: 0,
      replyText: null,
      replyNews: null,
      ...params.rule,
    });
    const issues = checkTagRule(fields);
    if (issues.length > 0) return { ok: false, reason: 'invalid', issues };
    return this.changeRules(async (manager) => {
      const tooLong = await checkRuleTagNames(manager, fields);
      if (tooLong.length > 0) return { ok: false, reason: 'invalid', issues: tooLong };
      if (await hasNameClash(manager, fields.name, null)) return { ok: false, reason: 'duplicate_name' };
      const now = this.deps.clock.now();
      const inserted = await manager.insert(TagRule, { ...fields, createdAt: now, updatedAt: now });
      const id = insertedId(inserted.identifiers);
      const rule = await manager.findOneByOrFail(TagRule, { id });
      await this.deps.audit.record({
        manager,
        operatorId: params.actor.operatorId,
        ip: params.actor.ip,
        action: 'tag_rule.create',
        targetType: 'tag_rule',
        targetId: rule.id,
        detail: describeRecord({ ...fields }),
      });
      return { ok: true, value: toRuleView(rule) };
    });
  }

  /** Applies a partial change; the merged rule must still be valid (e.g. a keyword rule keeps its keyword). */
  async updateTagRule(params: UpdateTagRuleParams): Promise<TagRuleResult<TagRuleView>> {
    return this.changeRules(async (manager) => {
      const current = await manager.findOneBy(TagRule, { id: params.id });
      if (!current) return { ok: false, reason: 'not_found' };
      const before = toRuleFields(current);
      const after = normalizeRule(mergeRule(before, params.changes));
      const issues = checkTagRule(after);
      if (issues.length > 0) return { ok: false, reason: 'invalid', issues };
      const tooLong = await checkRuleTagNames(manager, after);
      if (tooLong.length > 0) return { ok: false, reason: 'invalid', issues: tooLong };
      if (after.name !== before.name && (await hasNameClash(manager, after.name, current.id)))
        return { ok: false, reason: 'duplicate_name' };
      await manager.update(TagRule, { id: current.id }, { ...after, updatedAt: this.deps.clock.now() });
      const updated = await manager.findOneByOrFail(TagRule, { id: current.id });
      await this.deps.audit.record({
        manager,
        operatorId: params.actor.operatorId,
        ip: params.actor.ip,
        action: 'tag_rule.update',
        targetType: 'tag_rule',
        targetId: current.id,
        detail: describeChanges({ ...before }, { ...after }),
      });
      return { ok: true, value: toRuleView(updated) };
    });
  }

  async deleteTagRule(params: DeleteTagRuleParams): Promise<TagRuleResult<{ id: number }>> {
    return this.changeRules(async (manager) => {
      const current = await manager.findOneBy(TagRule, { id: params.id });
      if (!current) return { ok: false, reason: 'not_found' };
      await manager.delete(TagRule, { id: current.id });
      await this.deps.audit.record({
        manager,
        operatorId: params.actor.operatorId,
        ip: params.actor.ip,
        action: 'tag_rule.delete',
        targetType: 'tag_rule',
        targetId: current.id,
        detail: describeRecord({ ...toRuleFields(current) }),
      });
      return { ok: true, value: { id: current.id } };
    });
  }
  /** Runs a change and then tells the rule engine, which caches rules for the callback path. */
  private async changeRules<T>(work: (manager: EntityManager) => Promise<TagRuleResult<T>>): Promise<TagRuleResult<T>> {
    // Two operators saving the same name at once both pass the check; the unique index decides,
    // and the loser's next try finds the winner's rule.
    const result = await this.transactor.runRetrying(work, {
      onDuplicate: (): TagRuleResult<T> => ({ ok: false, reason: 'duplicate_name' }),
    });
    this.deps.onRulesChanged?.();
    return result;
  }
}

/**
 * Rules that span fields, checked on the complete rule (so a PATCH cannot break them either):
 * every kind but `any` needs a match value and must be one the interaction carries (the
 * registry, web/shared/interaction-types.ts: a scene on a text message never matches), and a
 * passive reply is either text or news, never both (WeChat answers one message per callback).
 */
export function checkTagRule(rule: TagRuleFields): TagRuleIssue[] {
  const issues: TagRuleIssue[] = [];
  if (rule.matchKind !== 'any' && !rule.matchValue)
    issues.push({
      path: 'matchValue',
      code: 'match_value_required',
      message: `matchValue is required when matchKind is '${rule.matchKind}'`,
    });
  if (rule.matchKind !== 'any' && interactionTypeOf(rule.interactionType) && !matcherFits(rule.interactionType, rule.matchKind))
    issues.push({
      path: 'matchKind',
      code: 'match_kind_not_for_type',
      message: `an interaction of type '${rule.interactionType}' carries nothing matchKind '${rule.matchKind}' reads`,
    });
  if (NUMERIC_MATCHERS.has(rule.matchKind as MatcherKind) && rule.matchValue && !/^[1-5]$/.test(rule.matchValue.trim()))
    issues.push({
      path: 'matchValue',
      code: 'match_value_rating',
      message: `matchKind '${rule.matchKind}' compares a rating: matchValue must be a whole number from 1 to 5`,
    });
  if (rule.replyText !== null && rule.replyNews !== null)
    issues.push({ path: 'replyNews', code: 'reply_one_kind', message: 'Give at most one of replyText and replyNews' });
  return issues;
}

/**
 * A tag the rule adds is created when it first fires, in its group (a new group syncs to both
 * platforms): a name a platform would refuse is refused here, where the operator can fix it, not
 * later as a failed sync. Names with `{scene}` depend on the scene and are not checked.
 */
async function checkRuleTagNames(manager: EntityManager, rule: TagRuleFields): Promise<TagRuleIssue[]> {
  const issues: TagRuleIssue[] = [];
  for (const [index, ref] of rule.addTags.entries()) {
    const group = await manager.findOneBy(TagGroup, { name: ref.group });
    const found: TagNameProblem[] = [];
    if (!group) for (const problem of tagNameProblemsOf(ref.group, { oa: false, wecom: true })) found.push(problem);
    const path = group || found.length === 0 ? `addTags.${index}.name` : `addTags.${index}.group`;
    if (!ref.name.includes('{scene}') && found.length === 0)
      found.push(...tagNameProblemsOf(ref.name, { oa: group?.syncOa ?? true, wecom: group?.syncWecom ?? true }));
    for (const { code, ...params } of found)
      issues.push({ path, code, message: `${ref.group}/${ref.name}: ${code} ${JSON.stringify(params)}`, params });
  }
  return issues;
}

/** Empty replies mean "no reply"; a value on an `any` rule would never be read, so it is dropped. */
function normalizeRule(rule: TagRuleFields): TagRuleFields {
  return {
    ...rule,
    matchValue: rule.matchKind === 'any' || !rule.matchValue ? null : rule.matchValue,
    replyText: rule.replyText ? rule.replyText : null,
    replyNews: rule.replyNews && rule.replyNews.length > 0 ? rule.replyNews : null,
  };
}

async function hasNameClash(manager: EntityManager, name: string, exceptId: number | null): Promise<boolean> {
  return manager.existsBy(TagRule, exceptId === null ? { name } : { name, id: Not(exceptId) });
}

/** The current rule with the given fields replaced; an absent field keeps its value, null clears it. */
function mergeRule(current: TagRuleFields, changes: Partial<TagRuleFields>): TagRuleFields {
  const pick = <K extends keyof TagRuleFields>(key: K): TagRuleFields[K] => {
    const value = changes[key];
    return value === undefined ? current[key] : value;
  };
  return {
    name: pick('name'),
    enabled: pick('enabled'),
    priority: pick('priority'),
    interactionType: pick('interactionType'),
    matchKind: pick('matchKind'),
    matchValue: pick('matchValue'),
    addTags: pick('addTags'),
    removeTags: pick('removeTags'),
    scorePoints: pick('scorePoints'),
    replyText: pick('replyText'),
    replyNews: pick('replyNews'),
  };
}

function toRuleFields(rule: TagRule): TagRuleFields {
  return {
    name: rule.name,
    enabled: rule.enabled,
    priority: rule.priority,
    interactionType: rule.interactionType,
    matchKind: rule.matchKind,
    matchValue: rule.matchValue,
    addTags: rule.addTags,
    removeTags: rule.removeTags,
    scorePoints: rule.scorePoints,
    replyText: rule.replyText,
    replyNews: rule.replyNews,
  };
}

function toRuleView(rule: TagRule): TagRuleView {
  return { id: rule.id, ...toRuleFields(rule), createdAt: rule.createdAt.toISOString(), updatedAt: rule.updatedAt.toISOString() };
}
