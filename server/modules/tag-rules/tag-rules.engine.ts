import type { DataSource, EntityManager } from 'typeorm';
import type { InteractionDetail } from '../../../entities/interaction.entity';
import type { Tag } from '../../../entities/tag.entity';
import { TagRule, type NewsArticle, type RuleMatchKind, type TagRef } from '../../../entities/tag-rule.entity';
import type { Clock } from '../../adapters/clock';
import type { AddPointsParams } from '../scoring/scoring.service';
import type { ContactTagsService } from '../tags/contact-tags.service';
import { MATCHER_FIELDS } from '../../../web/shared/interaction-types';

export type PassiveReply = { kind: 'text'; content: string } | { kind: 'news'; articles: NewsArticle[] };

export interface RuleInput {
  type: string;
  detail: InteractionDetail;
}

/** Does the rule recognise this interaction? Pure, so the callback and the worker agree. */
export function matchRule(rule: TagRule, input: RuleInput): boolean {
  return rule.enabled && matchInteraction(rule, input);
}

/** How a rule names the interactions it recognises; tag rules and score rules share it. */
export interface InteractionMatcher {
  interactionType: string | null;
  matchKind: RuleMatchKind;
  matchValue: string | null;
}

/** The matcher itself, for any rule that recognises interactions (tag rules, score rules). Pure. */
export function matchInteraction(rule: InteractionMatcher, input: RuleInput): boolean {
  if (rule.interactionType !== input.type) return false;
  const text = (key: string): string | null => {
    const value = input.detail[key];
    return typeof value === 'string' || typeof value === 'number' ? String(value) : null;
  };
  if (rule.matchKind === 'any') return true;
  const expected = rule.matchValue ?? '';
  const value = text(MATCHER_FIELDS[rule.matchKind]);
  switch (rule.matchKind) {
    case 'keyword_exact':
      return (value ?? '').trim().toLowerCase() === expected.trim().toLowerCase();
    case 'keyword_contains':
      return expected !== '' && (value ?? '').toLowerCase().includes(expected.toLowerCase());
    case 'scene':
      return value !== null && value !== '' && (expected === '*' || value === expected);
    case 'menu_key':
    case 'event_id':
    case 'content_id':
      return value === expected;
    // A rating compares as a number; a detail without one (or not a number) never matches.
    case 'satisfaction_at_most':
    case 'satisfaction_at_least': {
      const rating = value === null || value === '' ? NaN : Number(value);
      const bound = Number(expected);
      if (!Number.isFinite(rating) || !Number.isFinite(bound)) return false;
      return rule.matchKind === 'satisfaction_at_most' ? rating <= bound : rating >= bound;
    }
  }
}

/** `{scene}` in a tag name becomes the interaction's scene; a rule tag with no value to fill is skipped. */
export function renderTagRef(ref: TagRef, detail: InteractionDetail): TagRef | null {
  if (!ref.name.includes('{scene}')) return ref;
  const scene = detail.scene;
  if (typeof scene !== 'string' || scene === '') return null;
  return { group: ref.group, name: ref.name.replaceAll('{scene}', scene) };
}

/** A rule that fires for an interaction, with its tags rendered as they would be applied. */
export interface FiredRule {
  id: number;
  name: string;
  addTags: TagRef[];
  removeTags: TagRef[];
  scorePoints: number;
}

export interface RulesOutcome {
  fired: FiredRule[];
  reply: PassiveReply | null;
}

/**
 * What the rules (enabled, by priority) do for an interaction: every matching rule fires, and the
 * reply is the first matching rule's that carries one. Pure: the callback, the worker and the
 * admin's dry run agree by construction.
 */
export function evaluateRules(rules: TagRule[], input: RuleInput): RulesOutcome {
  const fired: FiredRule[] = [];
  let reply: PassiveReply | null = null;
  for (const rule of rules) {
    if (!matchRule(rule, input)) continue;
    const render = (refs: TagRef[]) => refs.flatMap((ref) => renderTagRef(ref, input.detail) ?? []);
    fired.push({
      id: rule.id,
      name: rule.name,
      addTags: render(rule.addTags),
      removeTags: render(rule.removeTags),
      scorePoints: rule.scorePoints,
    });
    reply ??= replyOf(rule);
  }
  return { fired, reply };
}

function replyOf(rule: TagRule): PassiveReply | null {
  if (rule.replyText) return { kind: 'text', content: rule.replyText };
  if (rule.replyNews && rule.replyNews.length > 0) return { kind: 'news', articles: rule.replyNews };
  return null;
}

/**
 * Tag rules: the passive reply is chosen inside the callback (it must go back in the same HTTP
 * answer); tags and points are applied after the reply, from the stored interaction.
 */
export class TagRulesEngine {
  /** The enabled rules by interaction type, loading or loaded; callbacks arriving meanwhile share the one read. */
  private cache: { loadedAt: number; byType: Promise<Map<string, TagRule[]>> } | null = null;
  private readonly cacheMs: number;

  /**
   * Rules are read on every callback, so they are cached for `cacheMs` (default 2 s). A change
   * made through this instance drops the cache at once (invalidate); other instances see it
   * within cacheMs. Rules are configuration, not state: a short lag is harmless. When the cache
   * runs out under load, the callbacks in flight wait for one read rather than each making its own
   * (bench:callbacks saw dozens of identical reads per expiry).
   */
  constructor(private readonly deps: { dataSource: DataSource; contactTags: ContactTagsService; clock: Clock; cacheMs?: number }) {
    this.cacheMs = deps.cacheMs ?? 2_000;
  }

  invalidate(): void {
    this.cache = null;
  }

  /**
   * `manager`: a caller inside a transaction reads through it. A read through the pool there would
   * wait for a second connection while the transaction holds its locks (the reactions batch holds
   * its contacts'), and requests waiting on those locks can hold every pooled connection: a
   * deadlock that only the lock wait timeout ends.
   */
  private async loadRules(type: string, manager: EntityManager = this.deps.dataSource.manager): Promise<TagRule[]> {
    const now = this.deps.clock.now().getTime();
    if (!this.cache || now - this.cache.loadedAt > this.cacheMs || now < this.cache.loadedAt) {
      const cache = { loadedAt: now, byType: this.readRules(manager) };
      this.cache = cache;
      // A failed read is not kept: the next callback tries again.
      cache.byType.catch(() => {
        if (this.cache === cache) this.cache = null;
      });
    }
    return (await this.cache.byType).get(type) ?? [];
  }

  private async readRules(manager: EntityManager): Promise<Map<string, TagRule[]>> {
    const rules = await manager.find(TagRule, { where: { enabled: true }, order: { priority: 'ASC', id: 'ASC' } });
    const byType = new Map<string, TagRule[]>();
    for (const rule of rules) byType.set(rule.interactionType, [...(byType.get(rule.interactionType) ?? []), rule]);
    return byType;
  }

  /** The first matching rule that carries a reply, by priority. */
  async findReply(input: RuleInput): Promise<PassiveReply | null> {
    for (const rule of await this.loadRules(input.type)) {
      if (!matchRule(rule, input)) continue;
      const reply = replyOf(rule);
      if (reply) return reply;
    }
    return null;
  }

  /** The admin's "try it": which rules an interaction would fire, and the reply; nothing is written. */
  async dryRun(input: RuleInput): Promise<RulesOutcome> {
    // Fresh from the database, not the callback cache: the operator has just edited a rule.
    this.invalidate();
    return evaluateRules(await this.loadRules(input.type), input);
  }

  /**
   * Applies every matching rule's tags (idempotent per contact and tag) and adds its points to
   * `points`, for the caller to score in bulk; the ledger's key makes them once per (rule, interaction).
   */
  async applyRules(
    manager: EntityManager,
    p: { contactId: number; interactionId: number } & RuleInput,
    points: AddPointsParams[],
  ): Promise<void> {
    for (const rule of await this.loadRules(p.type, manager)) {
      if (!matchRule(rule, p)) continue;
      if (rule.addTags.length > 0 || rule.removeTags.length > 0) {
        await this.deps.contactTags.applyTags(manager, {
          contactId: p.contactId,
          add: await this.renderTags(manager, rule.addTags, p.detail),
          remove: await this.renderTags(manager, rule.removeTags, p.detail),
          actor: { kind: 'rule', id: rule.id, name: rule.name },
          cause: 'rule',
          interactionId: p.interactionId,
        });
      }
      points.push({
        contactId: p.contactId,
        points: rule.scorePoints,
        reason: `${rule.name} (${p.type})`,
        ruleId: rule.id,
        interactionId: p.interactionId,
        dedupeKey: `rule:${rule.id}:interaction:${p.interactionId}`,
      });
    }
  }

  private async renderTags(manager: EntityManager, refs: TagRef[], detail: InteractionDetail): Promise<Tag[]> {
    const tags: Tag[] = [];
    for (const ref of refs) {
      const rendered = renderTagRef(ref, detail);
      if (rendered) tags.push(await this.deps.contactTags.ensureTag(manager, rendered));
    }
    return tags;
  }
}
