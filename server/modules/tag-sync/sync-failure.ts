/**
 * Why a tag sync task failed for good: the tags screen shows the sentence `errors.sync.<code>` with
 * its params (test/unit/web/error-codes.test.ts checks both locales have each); `platform_errcode`
 * adds the errcode's meaning.
 */
export const TAG_SYNC_FAILURE_CODES = [
  'tag_name_oa_bytes',
  'oa_tags_per_follower',
  'oa_tags_per_account',
  'no_follow_user',
  'platform_errcode',
  'failed',
] as const;

export type TagSyncFailureCode = (typeof TAG_SYNC_FAILURE_CODES)[number];

/**
 * Why a tag sync task failed, as a code and the numbers its sentence needs. The task row keeps
 * only English text (`tasks.last_error`, read by operators in logs and the CLI), so the limit
 * messages are written here and read back here: one place knows both directions, and rows stored
 * before the codes existed read the same.
 */
export interface SyncFailure {
  code: TagSyncFailureCode;
  params: Record<string, number>;
}

export const syncFailureMessages = {
  tagNameOaBytes: (name: string, bytes: number, max: number) =>
    `Tag name "${name}" is longer than ${max} bytes, the Official Account limit (${bytes} bytes)`,
  oaTagsPerFollower: (max: number) => `The follower already has ${max} Official Account tags (the platform limit); remove one first`,
  oaTagsPerAccount: (max: number) =>
    `The Official Account already has ${max} tags (the platform limit); turn off syncing for a tag group or delete tags`,
  noFollowUser: () => 'The customer has no WeCom follow user to tag them as',
};

const PATTERNS: { code: TagSyncFailureCode; pattern: RegExp; names: string[] }[] = [
  // The byte count in brackets is newer than the message; older rows lack it.
  {
    code: 'tag_name_oa_bytes',
    pattern: /^Tag name ".*" is longer than (\d+) bytes, the Official Account limit(?: \((\d+) bytes\))?$/s,
    names: ['max', 'bytes'],
  },
  { code: 'oa_tags_per_follower', pattern: /^The follower already has (\d+) Official Account tags/, names: ['max'] },
  { code: 'oa_tags_per_account', pattern: /^The Official Account already has (\d+) tags/, names: ['max'] },
  { code: 'no_follow_user', pattern: /^The customer has no WeCom follow user/, names: [] },
];

/** The code of a stored failure text: a limit above, else the platform's errcode it names, else `failed`. */
export function readSyncFailure(error: string, errcode: number | null): SyncFailure {
  for (const { code, pattern, names } of PATTERNS) {
    const match = pattern.exec(error);
    if (!match) continue;
    const params: Record<string, number> = {};
    names.forEach((name, index) => {
      const value = match[index + 1];
      if (value !== undefined) params[name] = Number(value);
    });
    return { code, params };
  }
  if (errcode !== null) return { code: 'platform_errcode', params: { errcode } };
  return { code: 'failed', params: {} };
}
