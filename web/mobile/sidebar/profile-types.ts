/**
 * The sidebar API's answers (server/modules/sidebar/sidebar.service.ts), as JSON. Written out like
 * web/shared/types.ts (the browser build does not read the server's modules); the API tests pin the
 * server's side, the browser test this side. Types only, no imports that need a browser, so the
 * pure modules and their jest tests read them too.
 */
import type { DisplayIdentity, TimelineItem } from '../../shared/types';

export interface SidebarContact {
  id: number;
  display: DisplayIdentity;
  name: string | null;
  remark: string | null;
  avatarUrl: string | null;
  phone: string | null;
  company: string | null;
  identities: {
    officialAccount: { openid: string; subscribed: boolean } | null;
    miniProgram: { openid: string } | null;
    externalUserId: string | null;
    unionid: string | null;
  };
  follows: { userId: string; name: string | null; since: string; mine: boolean }[];
  owner: { userId: string; name: string | null } | null;
  createdAt: string;
}

export interface SidebarTag {
  id: number;
  name: string;
  group: string;
}

export interface LedgerLine {
  id: number;
  points: number;
  reason: string;
  at: string;
}

export interface SidebarEvent {
  registrationId: number;
  eventId: number;
  eventName: string;
  startsAt: string;
  endsAt: string;
  status: string;
  checkedIn: boolean;
  checkedInAt: string | null;
  registeredAt: string;
}

export interface SidebarSurvey {
  eventId: number;
  eventName: string;
  rating: number;
  answeredAt: string;
}

export interface SidebarFollowUp {
  id: number;
  eventId: number;
  eventName: string;
  mine: boolean;
  createdAt: string;
}

export interface SidebarHint {
  code: string;
  params: Record<string, string | number | null>;
}

export interface SidebarProfile {
  contact: SidebarContact;
  tags: SidebarTag[];
  score: { value: number; mqlThreshold: number; ledger: LedgerLine[] };
  stage: string;
  source: { code: string | null; channelId: number | null; channelName: string | null; at: string | null };
  timeline: { items: TimelineItem[]; nextBefore: string | null; after: string };
  events: SidebarEvent[];
  surveys: SidebarSurvey[];
  followUps: SidebarFollowUp[];
  hints: SidebarHint[];
}

export interface LivePage {
  items: TimelineItem[];
  after: string;
  more: boolean;
}
