import type { FilterConditionKind, FilterGroupInput, FilterNodeInput } from '@shared/segment-filter';

/**
 * The segment builder's model: the filter JSON itself (web/shared/segment-filter.ts), edited in
 * place. Only types come from the shared module, so the page does not bundle zod; the server
 * validates and answers each refused field by its path.
 */
export const CONDITION_KINDS: FilterConditionKind[] = [
  'tags',
  'score',
  'stage',
  'source',
  'hasPhone',
  'followsOa',
  'activeWithin',
  'silentFor',
  'did',
  'didNot',
  'clickedJourney',
  'inSegment',
  'created',
  'lastInteraction',
];
export const STAGES = ['acquired', 'activated', 'retained', 'revenue', 'referral'] as const;
export const ACTION_TYPES = [
  'text',
  'click',
  'view',
  'scan',
  'menu_scan',
  'subscribe',
  'unsubscribe',
  'add_external_contact',
  'link_clicked',
  'segment_entered',
  'segment_exited',
];
export const MATCHER_KINDS = ['keyword_exact', 'keyword_contains', 'scene', 'menu_key', 'event_id'] as const;

/** A new condition of this kind with values an operator most often starts from. */
export function newCondition(kind: FilterConditionKind): FilterNodeInput {
  switch (kind) {
    case 'tags':
      return { kind, match: 'any', tagIds: [] };
    case 'score':
      return { kind, min: 0 };
    case 'stage':
      return { kind, stages: ['activated'] };
    case 'source':
      return { kind, which: 'first', prefix: '' };
    case 'hasPhone':
    case 'followsOa':
      return { kind, value: true };
    case 'created':
    case 'lastInteraction':
      return { kind, from: new Date(Date.now() - 30 * 86_400_000).toISOString() };
    case 'activeWithin':
      return { kind, days: 7 };
    case 'silentFor':
      return { kind, days: 30 };
    case 'did':
      return { kind, type: 'text', atLeast: 1, days: 30 };
    case 'didNot':
      return { kind, type: 'text', days: 30 };
    case 'clickedJourney':
      return { kind, journeyId: '' };
    case 'inSegment':
      return { kind, segmentId: 0 };
  }
}

export function newGroup(kind: 'and' | 'or' = 'and'): FilterGroupInput {
  return { kind, conditions: [newCondition('tags')] };
}

export function isGroup(node: FilterNodeInput): node is FilterGroupInput {
  return node.kind === 'and' || node.kind === 'or';
}

/** A saved segment as the list shows it. */
export interface SegmentView {
  id: number;
  name: string;
  filter: FilterGroupInput | FilterNodeInput;
  count: number;
  countedAt: string | null;
}

export interface SegmentMember {
  id: number;
  name: string | null;
  remark: string | null;
  score: number;
  stage: string;
  enteredAt: string;
}

/** The builder edits a group at the top; a saved single condition is shown inside one. */
export function editableFilter(filter: FilterNodeInput): FilterGroupInput {
  return isGroup(filter) ? structuredClone(filter) : { kind: 'and', conditions: [structuredClone(filter)] };
}
