import type { ApiErrorBody, Translator } from '../shared/errors';
import type { PlatformSyncState, TagGroupView, TagView } from '../shared/types';
import { errcodeKey } from './failed-work';

/** Element Plus tag colours: the sync state at a glance. */
export type TagColour = 'info' | 'warning' | 'success' | 'danger';

export function syncColour(state: PlatformSyncState['state']): TagColour {
  switch (state) {
    case 'pending':
      return 'warning';
    case 'done':
      return 'success';
    case 'failed':
      return 'danger';
    case 'none':
      return 'info';
  }
}

/**
 * A platform errcode in the page's language: the number and its meaning when the one catalogue
 * (`labels.errcodes`, errcodeKey) has one, else the number in a general sentence. The platform's
 * own English meaning stays in the tooltip.
 */
export function errcodeText(errcode: number, tr: Translator): string {
  const key = errcodeKey(errcode);
  return tr.has(key) ? `${errcode} ${tr.t(key)}` : tr.t('errors.sync.platform_errcode', { errcode });
}

/** What a failed sync shows beside its state: the reason's sentence, or the errcode and its meaning. */
export function syncProblem(sync: PlatformSyncState, tr: Translator): string {
  if (sync.state !== 'failed') return '';
  if (sync.errcode !== undefined && (sync.code === undefined || sync.code === 'platform_errcode')) return errcodeText(sync.errcode, tr);
  const key = `errors.sync.${sync.code ?? 'failed'}`;
  return tr.t(tr.has(key) ? key : 'errors.sync.failed', sync.params ?? {});
}

/** The groups in name order, each with its tags in name order (tags of an unknown group are dropped). */
export function groupsWithTags(groups: TagGroupView[], tags: TagView[]): { group: TagGroupView; tags: TagView[] }[] {
  const byGroup = new Map<number, TagView[]>();
  for (const tag of tags) byGroup.set(tag.groupId, [...(byGroup.get(tag.groupId) ?? []), tag]);
  const byName = (a: { name: string }, b: { name: string }) => a.name.localeCompare(b.name, 'zh-CN');
  return [...groups].sort(byName).map((group) => ({ group, tags: [...(byGroup.get(group.id) ?? [])].sort(byName) }));
}

/**
 * A create or rename the API refused, as messages per form field. A 409 on these calls means the
 * name is taken (the API has no field path for it), so it is filed under `name`, where the operator typed it.
 */
export function nameFormErrors(
  status: number,
  body: ApiErrorBody,
  fields: Record<string, string>,
  nameTaken: string,
): Record<string, string> {
  if (status === 409 && body.code === 'conflict') return { ...fields, name: nameTaken };
  return fields;
}

/** The rows still listed after a retry: the re-driven ones are pending again, no longer failed. */
export function withoutRetried<T extends { id: number }>(rows: T[], retried: number[]): T[] {
  const gone = new Set(retried);
  return rows.filter((row) => !gone.has(row.id));
}
