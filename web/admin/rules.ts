import { interactionTypeOf, MATCHER_FIELDS } from '../shared/interaction-types';
import type { TagRef, TagRule } from '../shared/types';

/** The form's text fields for a rule; tags are edited as lines "group/name". */
export interface RuleForm {
  name: string;
  enabled: boolean;
  priority: number;
  interactionType: string;
  matchKind: string;
  matchValue: string;
  addTags: string;
  removeTags: string;
  scorePoints: number;
  replyText: string;
}

export function emptyRuleForm(): RuleForm {
  return {
    name: '',
    enabled: true,
    priority: 100,
    interactionType: 'text',
    matchKind: 'keyword_exact',
    matchValue: '',
    addTags: '',
    removeTags: '',
    scorePoints: 0,
    replyText: '',
  };
}

export function formOfRule(rule: TagRule): RuleForm {
  const lines = (tags: TagRef[]) => tags.map((tag) => `${tag.group}/${tag.name}`).join('\n');
  return {
    name: rule.name,
    enabled: rule.enabled,
    priority: rule.priority,
    interactionType: rule.interactionType,
    matchKind: rule.matchKind,
    matchValue: rule.matchValue ?? '',
    addTags: lines(rule.addTags),
    removeTags: lines(rule.removeTags),
    scorePoints: rule.scorePoints,
    replyText: rule.replyText ?? '',
  };
}

/** "group/name" lines as tag references; a line without a slash goes to the group "默认". */
export function parseTagLines(text: string): TagRef[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .map((line) => {
      const slash = line.indexOf('/');
      return slash < 0 ? { group: '默认', name: line } : { group: line.slice(0, slash).trim(), name: line.slice(slash + 1).trim() };
    });
}

/** The API body; the API validates it and its messages are shown next to each field. */
export function ruleBodyOf(form: RuleForm): Record<string, unknown> {
  return {
    name: form.name,
    enabled: form.enabled,
    priority: form.priority,
    interactionType: form.interactionType,
    matchKind: form.matchKind,
    matchValue: form.matchKind === 'any' || form.matchValue.trim() === '' ? null : form.matchValue,
    addTags: parseTagLines(form.addTags),
    removeTags: parseTagLines(form.removeTags),
    scorePoints: form.scorePoints,
    replyText: form.replyText === '' ? null : form.replyText,
  };
}

/** Which detail field a "try it" run needs for an interaction type (the one its matchers read). */
export function dryRunFieldOf(type: string): string | null {
  const kind = interactionTypeOf(type)?.matchers?.[0];
  return kind === undefined ? null : MATCHER_FIELDS[kind];
}

/** The dry-run body: the type, and its one field when it has one and it is filled. */
export function dryRunBodyOf(type: string, value: string): Record<string, string> {
  const field = dryRunFieldOf(type);
  const body: Record<string, string> = { type };
  if (field !== null && value !== '') body[field] = value;
  return body;
}
