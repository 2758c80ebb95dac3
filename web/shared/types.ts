/** The admin API's shapes the pages read (see the contracts in the admin brief). */
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

export interface TimelineItem {
  id: number | string;
  type: string;
  channel: string;
  at: string;
  detail: unknown;
}

export interface TimelinePage {
  items: TimelineItem[];
  nextBefore: string | null;
}

export interface TagView {
  id: number;
  groupId: number;
  group: string;
  name: string;
  contactCount: number;
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
  reply: { kind: 'text'; content: string } | { kind: 'news'; articles: { title: string; description?: string; url?: string; picUrl?: string }[] } | null;
}
