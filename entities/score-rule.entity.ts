import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import type { RuleMatchKind } from './tag-rule.entity';

/** What a score rule recognises: something the contact did, or something true of them. */
export const SCORE_RULE_KINDS = ['behaviour', 'attribute'] as const;
export type ScoreRuleKind = (typeof SCORE_RULE_KINDS)[number];

/**
 * Attributes a rule can score, each once per contact: a phone (typed by an operator or verified),
 * an Official Account follow (an openid), an active WeCom follow relation, a first source starting
 * with the rule's value.
 */
export const SCORE_ATTRIBUTES = ['has_phone', 'follows_oa', 'follows_wecom', 'source_prefix'] as const;
export type ScoreAttribute = (typeof SCORE_ATTRIBUTES)[number];

/**
 * Points for behaviour (an interaction recognised by the tag rules' matcher) or for an attribute.
 * A behaviour rule can be capped per contact per business day (score_rule_daily_hits).
 */
@Entity('score_rules')
export class ScoreRule {
  @PrimaryGeneratedColumn()
  id: number;

  @Index('UQ_score_rules_name', { unique: true })
  @Column({ type: 'varchar', length: 64 })
  name: string;

  @Column({ type: 'boolean', default: true })
  enabled: boolean;

  @Column({ type: 'varchar', length: 16 })
  kind: ScoreRuleKind;

  /** Behaviour: the interaction type, matched like a tag rule (matchKind, matchValue). */
  @Column({ type: 'varchar', length: 48, nullable: true })
  interactionType: string | null;

  @Column({ type: 'varchar', length: 24, default: 'any' })
  matchKind: RuleMatchKind;

  @Column({ type: 'varchar', length: 255, nullable: true })
  matchValue: string | null;

  /** Attribute: which one, and its value (the source prefix). */
  @Column({ type: 'varchar', length: 32, nullable: true })
  attribute: ScoreAttribute | null;

  @Column({ type: 'varchar', length: 128, nullable: true })
  attributeValue: string | null;

  @Column({ type: 'int' })
  points: number;

  /** Behaviour: at most this many hits per contact per business day; null for no cap. */
  @Column({ type: 'int', nullable: true })
  dailyCap: number | null;

  @Column({ type: 'datetime', precision: 3 })
  createdAt: Date;

  @Column({ type: 'datetime', precision: 3 })
  updatedAt: Date;
}
