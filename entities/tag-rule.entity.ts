import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/** How a rule recognises an interaction beyond its type. */
export const RULE_MATCH_KINDS = [
  'any',
  'keyword_exact',
  'keyword_contains',
  'scene',
  'menu_key',
  'event_id',
  'content_id',
  'satisfaction_at_most',
  'satisfaction_at_least',
] as const;
export type RuleMatchKind = (typeof RULE_MATCH_KINDS)[number];

/** A tag named by group and name; `{scene}` in a name is replaced by the interaction's scene. */
export interface TagRef {
  group: string;
  name: string;
}

export interface NewsArticle {
  title: string;
  description?: string;
  picUrl?: string;
  url?: string;
}

/**
 * When an interaction of `interactionType` matches, add/remove tags, add score points, and
 * optionally answer with a passive reply (keyword auto-replies are rules too).
 */
@Entity('tag_rules')
@Index(['interactionType', 'enabled'])
export class TagRule {
  @PrimaryGeneratedColumn()
  id: number;

  /** Unique: operators tell rules apart by name. */
  @Index('UQ_tag_rules_name', { unique: true })
  @Column({ type: 'varchar', length: 64 })
  name: string;

  @Column({ type: 'boolean', default: true })
  enabled: boolean;

  /** Lower runs first; the first matching rule with a reply gives the passive reply. */
  @Column({ type: 'int', default: 100 })
  priority: number;

  @Column({ type: 'varchar', length: 48 })
  interactionType: string;

  @Column({ type: 'varchar', length: 24, default: 'any' })
  matchKind: RuleMatchKind;

  /** Keyword, scene, menu key or event id; `*` with kind `scene` matches any non-empty scene. */
  @Column({ type: 'varchar', length: 255, nullable: true })
  matchValue: string | null;

  @Column({ type: 'simple-json' })
  addTags: TagRef[];

  @Column({ type: 'simple-json' })
  removeTags: TagRef[];

  @Column({ type: 'int', default: 0 })
  scorePoints: number;

  @Column({ type: 'text', nullable: true })
  replyText: string | null;

  @Column({ type: 'simple-json', nullable: true })
  replyNews: NewsArticle[] | null;

  @Column({ type: 'datetime', precision: 3 })
  createdAt: Date;

  @Column({ type: 'datetime', precision: 3 })
  updatedAt: Date;
}
