/**
 * The admin API's shapes the pages read, as JSON (times as ISO text). Written out rather than
 * imported from the server's modules: importing even a type makes vue-tsc check the server
 * files behind it, whose TypeORM decorators need compiler options the browser build does not use
 * (tried: 58 errors). The API tests pin the server's side of each shape.
 */
export type Role = 'admin' | 'operator' | 'sales';

export interface Me {
  id: number;
  username: string;
  displayName?: string | null;
  role: Role;
  wecomUserId?: string | null;
  mustChangePassword?: boolean;
}

export interface PageConfig {
  sandbox: boolean;
  timezone: string;
  locale: string;
}

export interface ContactRow {
  id: number;
  name: string | null;
  openid: string | null;
  unionid: string | null;
  externalUserId: string | null;
  tags: string[];
  score: number;
  stage: string;
  source: string | null;
  display: DisplayIdentity;
  tagItems: { group: string; name: string }[];
  lastInteraction: { type: string | null; channel: string | null; at: string } | null;
  follow: { officialAccount: 'subscribed' | 'unsubscribed' | null; wecomReps: number };
  owner: ContactOwner | null;
}

/** What to call a contact, decided by the server (modules/contacts/display-identity.ts). */
export interface DisplayIdentity {
  kind: 'remark' | 'name' | 'oa_follower' | 'mp_user' | 'wecom_contact' | 'contact';
  text: string;
  firstSource: string | null;
  followedAt: string;
}

export interface ContactOwner {
  userId: string;
  name: string | null;
}

export interface ContactPage {
  items: ContactRow[];
  total?: number;
  totalCapped?: boolean;
  next: string | number | null;
}

export interface ContactDetail {
  id: number;
  name: string | null;
  display: DisplayIdentity;
  remark: string | null;
  phone: string | null;
  /** The contact's own IANA time zone; null: the business zone (quiet hours and "until 09:00" waits read it). */
  timeZone?: string | null;
  owner: ContactOwner | null;
  avatarUrl?: string | null;
  identities: { kind: string; appId: string | null; value: string }[];
  tags: { id: number; group: string; name: string }[];
  score: number;
  stage: string;
  firstSource: string | null;
  firstSourceAt?: string | null;
  lastSource: string | null;
  lastSourceAt?: string | null;
  ownerUserId?: string | null;
  createdAt?: string;
}

/** Who made a change on the timeline: an operator, a tag rule, a platform (WeCom edits) or Flywheel itself. */
export type TimelineActor =
  | { kind: 'operator'; id: number | null; name: string | null }
  | { kind: 'rule'; id: number | null; name: string | null }
  | { kind: 'platform'; name: string }
  | { kind: 'journey'; id: number | null; name: string | null }
  | { kind: 'system' };

export interface TimelineInteraction {
  kind: 'interaction';
  id: number;
  type: string;
  channel: string;
  /** `out`: sent to the contact (a push, its delivery); `in`: the contact did it. */
  direction: 'in' | 'out';
  at: string;
  detail: Record<string, unknown>;
}

export interface TimelineTagChange {
  kind: 'tag_change';
  id: number;
  at: string;
  op: 'add' | 'remove';
  tag: { id: number; group: string | null; name: string };
  actor: TimelineActor;
  cause: string;
  interactionId: number | null;
}

export interface TimelineScore {
  kind: 'score';
  id: number;
  at: string;
  points: number;
  reason: string;
  actor: TimelineActor;
  interactionId: number | null;
}

export interface TimelineStageChange {
  kind: 'stage_change';
  id: number;
  at: string;
  from: string;
  to: string;
  actor: TimelineActor;
  interactionId: number | null;
}

export type TimelineItem = TimelineInteraction | TimelineTagChange | TimelineScore | TimelineStageChange;

export interface TimelinePage {
  items: TimelineItem[];
  nextBefore: string | null;
}

export interface TagGroupView {
  id: number;
  name: string;
  syncOa: boolean;
  syncWecom: boolean;
  wecomGroupId: string | null;
  tagCount: number;
  createdAt: string;
}

/** Whether a tag reached one platform; for `failed`, the platform's errcode and its meaning when it gave one. */
export interface PlatformSyncState {
  state: 'none' | 'pending' | 'done' | 'failed';
  errcode?: number;
  meaning?: string;
  error?: string;
  /** For `failed`: why, as a code with a sentence under `errors.sync` (server/modules/tag-sync/sync-failure.ts). */
  code?: string;
  params?: Record<string, number>;
}

export interface TagView {
  id: number;
  groupId: number;
  group: string;
  name: string;
  contactCount: number;
  oaTagId?: number | null;
  wecomTagId?: string | null;
  createdAt?: string;
  sync?: { oa: PlatformSyncState; wecom: PlatformSyncState };
}

export interface TagRef {
  group: string;
  name: string;
}

export interface TagRule {
  id: number;
  name: string;
  enabled: boolean;
  priority: number;
  interactionType: string;
  matchKind: string;
  matchValue: string | null;
  addTags: TagRef[];
  removeTags: TagRef[];
  scorePoints: number;
  replyText: string | null;
  replyNews: unknown[] | null;
}

export interface Stats {
  timezone: string;
  from: string;
  to: string;
  days: string[];
  newContacts: { day: string; source: string | null; count: number }[];
  funnel: { stage: string; count: number }[];
  activity: { active: number; silent: number; silentDays: number };
  interactions: { day: string; channel: string; count: number }[];
  topTags: { tagId: number; group: string; name: string; count: number }[];
  headline: Record<HeadlineKey, { value: number; previous: number | null }>;
}

export type HeadlineKey = 'contacts' | 'newToday' | 'new7d' | 'active7d' | 'silent' | 'interactionsToday';

export type FailedWorkKind = 'tasks' | 'reactions';

/** A task or interaction reaction that failed for good. */
export interface FailedWorkItem {
  id: number;
  kind: string | null;
  dedupeKey: string;
  attempts: number;
  lastError: string | null;
  errcode: { code: number; meaning: string } | null;
  updatedAt: string;
  channel?: string | null;
  /** Tasks only: what the task was about, for the page's sentence. */
  subject?: { op: string | null; tag: string | null; contact: DisplayIdentity | null; count: number | null } | null;
}

export interface FailedWorkPage {
  items: FailedWorkItem[];
  nextBefore: number | null;
}

export type PlatformKey = 'oa' | 'wecom' | 'miniprogram';

/** One platform on the setup screen: which credentials are set, never their values. */
export interface PlatformSetup {
  key: PlatformKey;
  mode: 'live' | 'sandbox' | 'disabled';
  callbackUrl: string | null;
  appId?: string;
  corpId?: string;
  tokenSet: boolean;
  aesKeySet: boolean;
  secretSet: boolean;
}

export interface SetupView {
  publicBaseUrl: string;
  sandbox: boolean;
  platforms: PlatformSetup[];
}

export interface PlatformCheck {
  key: PlatformKey;
  ok: boolean;
  tokenFresh: boolean;
  expiresAt: string | null;
  errcode?: number;
  meaning?: string;
  error?: string;
}

/** A sidebar setup check the API could not make: the platform's errcode and its meaning when it gave one. */
export interface SidebarCheckFailure {
  ok: false;
  errcode?: number;
  meaning?: string;
  error: string;
}

/** GET /api/admin/setup/sidebar: what WeCom's API tells about the sidebar's app and reps. */
export interface SidebarSetupView {
  configured: boolean;
  sidebarUrl: string;
  app:
    | {
        ok: true;
        name: string;
        visibleUserIds: string[];
        visiblePartyIds: number[];
        visibleTagIds: number[];
        visibleToAll: boolean;
        redirectDomain: string;
        expectedDomain: string;
        domainMatches: boolean;
        closed: boolean;
      }
    | SidebarCheckFailure
    | null;
  customerContact: { ok: true; followUserIds: string[] } | (SidebarCheckFailure & { missingPermission: boolean }) | null;
  reps: {
    operatorId: number;
    username: string;
    displayName: string | null;
    wecomUserId: string;
    disabled: boolean;
    inVisibleRange: boolean | null;
    inFollowUserList: boolean | null;
    previewUrl: string | null;
  }[];
  previewUrl: string | null;
}

export interface Operator {
  id: number;
  username: string;
  displayName: string | null;
  role: Role;
  wecomUserId: string | null;
  disabled: boolean;
  mustChangePassword: boolean;
  createdAt: string;
}

export type AuditDetail = Record<string, string | number | boolean | null | string[] | number[]>;

export interface AuditEntry {
  id: number;
  operatorId: number | null;
  action: string;
  targetType: string | null;
  targetId: string | null;
  /** The target's name as the server resolved it: a tag `group/name`, a username, a contact's display identity. */
  target: { name: string | null; contact?: DisplayIdentity } | null;
  detail: AuditDetail;
  ip: string | null;
  at: string;
}

export interface AuditPage {
  items: AuditEntry[];
  nextBefore: number | null;
}

export interface LedgerItem {
  id: number;
  points: number;
  reason: string;
  ruleId: number | null;
  interactionId: number | null;
  at: string;
}

export interface LedgerPage {
  items: LedgerItem[];
  nextBefore: string | number | null;
}

/** POST /api/admin/imports, GET /api/admin/imports/:id. */
export interface ImportReport {
  id: number;
  status: 'staging' | 'staged' | 'done' | 'failed';
  fileName: string | null;
  encoding: string | null;
  eventId: number | null;
  tags: string[];
  overwrite: boolean;
  total: number;
  imported: number;
  created: number;
  updated: number;
  refused: { row: number; code: string; message: string }[];
  refusedCount: number;
  duplicates: number;
  duplicateRows: { row: number; firstRow: number }[];
  ignoredColumns: string[];
  error: string | null;
  createdAt: string;
  appliedAt: string | null;
}

export interface BulkJob {
  id: number;
  status: 'pending' | 'running' | 'done' | 'failed';
  /** Null until a worker has counted the matching contacts. */
  total: number | null;
  done: number;
  error: string | null;
}

export interface DryRunResult {
  fired: { id: number; name: string; addTags: TagRef[]; removeTags: TagRef[]; scorePoints: number }[];
  reply:
    | { kind: 'text'; content: string }
    | { kind: 'news'; articles: { title: string; description?: string; url?: string; picUrl?: string }[] }
    | null;
}

/** A score rule (GET /api/admin/score-rules). */
export interface ScoreRule {
  id: number;
  name: string;
  enabled: boolean;
  kind: 'behaviour' | 'attribute';
  interactionType: string | null;
  matchKind: string;
  matchValue: string | null;
  attribute: 'has_phone' | 'follows_oa' | 'follows_wecom' | 'source_prefix' | null;
  attributeValue: string | null;
  points: number;
  dailyCap: number | null;
}

/** GET/PUT /api/admin/scoring/settings. */
export interface ScoringSettings {
  mqlThreshold: number;
  decay: { mode: 'none' | 'half_life' | 'idle_weekly'; halfLifeDays: number; pointsPerIdleWeek: number };
  silentDays: number;
}

/** A lifecycle stage rule (GET /api/admin/stage-rules). */
export interface StageRule {
  id: number;
  interactionType: string;
  minCount: number;
  stage: string;
  enabled: boolean;
}
