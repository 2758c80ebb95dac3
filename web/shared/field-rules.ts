/**
 * Limits a form checks while the operator types and the server checks again on save: one pure
 * module (no Vue, no Node) read by both, so the page never accepts what the API refuses.
 */

/** Characters as a person counts them: code points, so 𠀀 (outside the BMP) is one, not two UTF-16 units. */
export function characterCount(text: string): number {
  return [...text].length;
}

/** UTF-8 bytes, as the Official Account counts its tag names. */
export function utf8ByteCount(text: string): number {
  return new TextEncoder().encode(text).length;
}

// --- operators ---------------------------------------------------------------------------------

/** operators.username is varchar(64): characters on MariaDB (utf8mb4) and SQLite alike. */
export const USERNAME_MAX_CHARS = 64;
/**
 * Letters and digits of any script (张三, José, ｌｉｓｉ after NFKC is lisi) and `. _ @ -`. No spaces or
 * other punctuation: a username is typed at the login form and read in the audit log.
 */
const USERNAME_PATTERN = /^[\p{L}\p{M}\p{N}._@-]+$/u;

/**
 * The one spelling a username is stored and looked up in: NFKC folds full-width Latin (an IME's
 * ｚｈａｎｇ) and compatibility forms into their plain letters, so the same name typed two ways is
 * one account; surrounding spaces are dropped.
 */
export function normalizeUsername(raw: string): string {
  return raw.normalize('NFKC').trim();
}

export type UsernameProblem = { code: 'username_empty' } | { code: 'username_too_long'; max: number } | { code: 'username_chars' };

/** Why a (normalised) username is refused, or null. */
export function usernameProblemOf(username: string): UsernameProblem | null {
  if (username.length === 0) return { code: 'username_empty' };
  if (characterCount(username) > USERNAME_MAX_CHARS) return { code: 'username_too_long', max: USERNAME_MAX_CHARS };
  if (!USERNAME_PATTERN.test(username)) return { code: 'username_chars' };
  return null;
}

// --- tags --------------------------------------------------------------------------------------

/** tags.name and tag_groups.name are varchar(64): Flywheel's own limit, for groups that sync nowhere. */
export const TAG_NAME_MAX_CHARS = 64;
/**
 * Official Account tags/create and tags/update: "标签名（30个字符以内）", enforced as 30 bytes of
 * UTF-8 (errcode 45158 "标签名长度超过30个字节"): ten Chinese characters. Only the tag's own name
 * goes to the Official Account; its tags have no groups there.
 */
export const OA_TAG_NAME_MAX_BYTES = 30;
/**
 * WeCom externalcontact/add_corp_tag and edit_corp_tag: tag and group names "最长为30个字符"
 * (https://developer.work.weixin.qq.com/document/path/92117): characters, not bytes.
 */
export const WECOM_TAG_NAME_MAX_CHARS = 30;

export type TagPlatform = 'oa' | 'wecom';

/** A name a platform would refuse: which one, its limit, and the name's measure in that unit. */
export type TagNameProblem =
  | { code: 'tag_name_empty' }
  | { code: 'tag_name_too_long'; max: number; actual: number }
  | { code: 'tag_name_oa_bytes'; platform: 'oa'; max: number; actual: number }
  | { code: 'tag_name_wecom_chars'; platform: 'wecom'; max: number; actual: number };

/** Where a name is synced to: a tag follows its group's switches; a group name goes to WeCom only. */
export interface TagNameTargets {
  oa: boolean;
  wecom: boolean;
}

/**
 * Every limit the (trimmed) name breaks, Flywheel's own first, then each platform it syncs to.
 * A group's name reaches only WeCom (the Official Account has no tag groups): pass `oa: false`.
 */
export function tagNameProblemsOf(name: string, targets: TagNameTargets): TagNameProblem[] {
  const trimmed = name.trim();
  if (trimmed.length === 0) return [{ code: 'tag_name_empty' }];
  const chars = characterCount(trimmed);
  const problems: TagNameProblem[] = [];
  if (chars > TAG_NAME_MAX_CHARS) problems.push({ code: 'tag_name_too_long', max: TAG_NAME_MAX_CHARS, actual: chars });
  const bytes = utf8ByteCount(trimmed);
  if (targets.oa && bytes > OA_TAG_NAME_MAX_BYTES)
    problems.push({ code: 'tag_name_oa_bytes', platform: 'oa', max: OA_TAG_NAME_MAX_BYTES, actual: bytes });
  if (targets.wecom && chars > WECOM_TAG_NAME_MAX_CHARS)
    problems.push({ code: 'tag_name_wecom_chars', platform: 'wecom', max: WECOM_TAG_NAME_MAX_CHARS, actual: chars });
  return problems;
}

// --- contacts filter ---------------------------------------------------------------------------

/** The contacts search box: longer text is no name, openid or phone anyone has. */
export const CONTACT_SEARCH_MAX_CHARS = 128;

export type ContactFilterProblem =
  { path: 'q'; code: 'search_too_long'; max: number; actual: number } | { path: 'maxScore'; code: 'score_range'; min: number; max: number };

/** What is wrong with a filter before it is sent: a too-long search, a lowest score above the highest. */
export function contactFilterProblemsOf(filter: {
  q?: string | null;
  minScore?: number | null;
  maxScore?: number | null;
}): ContactFilterProblem[] {
  const problems: ContactFilterProblem[] = [];
  const q = (filter.q ?? '').trim();
  if (characterCount(q) > CONTACT_SEARCH_MAX_CHARS)
    problems.push({ path: 'q', code: 'search_too_long', max: CONTACT_SEARCH_MAX_CHARS, actual: characterCount(q) });
  const { minScore, maxScore } = filter;
  if (typeof minScore === 'number' && typeof maxScore === 'number' && minScore > maxScore)
    problems.push({ path: 'maxScore', code: 'score_range', min: minScore, max: maxScore });
  return problems;
}
