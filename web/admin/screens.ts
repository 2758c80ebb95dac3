import type { ApiErrorBody } from '../shared/errors';
import type { PlatformSyncState, TagGroupView, TagView } from '../shared/types';

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

/** What a failed sync shows beside its state: the errcode and its meaning, else the error text. */
export function syncProblem(sync: PlatformSyncState): string {
  if (sync.state !== 'failed') return '';
  if (sync.errcode !== undefined) return sync.meaning ? `${sync.errcode} ${sync.meaning}` : String(sync.errcode);
  return sync.error ?? '';
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
