/** The sidebar's calls (server/http/sidebar.routes.ts); their answers are profile-types.ts. */
import { api } from '@shared/api';
import type { LivePage, SidebarProfile, SidebarTag } from './profile-types';
import type { ChatMessage } from './wecom';

export type * from './profile-types';

/** Something the rep can send into the chat: the payload sendChatMessage takes, made by the server. */
export interface ShareItem {
  kind: 'card' | 'invitation' | 'material';
  /** What the rep sees on the button or in the list. */
  title: string;
  eventId?: number | null;
  /** The content centre's material (materials only). */
  materialId?: number;
  message: ChatMessage;
}

export const LIFECYCLE_STAGES = ['acquired', 'activated', 'retained', 'revenue', 'referral'] as const;

const contactPath = (id: number) => `/api/sidebar/contacts/${id}`;

export const sidebarApi = {
  profile: (externalUserId: string) => api.get<SidebarProfile>(`/api/sidebar/contacts/by-external/${encodeURIComponent(externalUserId)}`),
  timelineAfter: (contactId: number, after: string) => api.get<LivePage>(`${contactPath(contactId)}/timeline`, { after }),
  tagCatalog: () => api.get<{ items: SidebarTag[] }>('/api/sidebar/tags'),
  changeTags: (contactId: number, change: { add: number[]; remove: number[] }) =>
    api.post<{ tags: SidebarTag[] }>(`${contactPath(contactId)}/tags`, change),
  addNote: (contactId: number, text: string) => api.post<{ recorded: boolean }>(`${contactPath(contactId)}/notes`, { text }),
  setStage: (contactId: number, stage: string) => api.put<{ stage: string }>(`${contactPath(contactId)}/stage`, { stage }),
  followUpDone: (followUpId: number) => api.post<unknown>(`/api/sidebar/follow-ups/${followUpId}/done`, {}),
  shareItems: (contactId: number) => api.get<{ items: ShareItem[] }>('/api/sidebar/share-items', { contactId }),
  recordShare: (contactId: number, item: ShareItem) =>
    api.post<unknown>(
      `${contactPath(contactId)}/shares`,
      item.kind === 'card'
        ? { kind: 'card' }
        : item.kind === 'material'
          ? { kind: 'material', materialId: item.materialId }
          : { kind: item.kind, eventId: item.eventId },
    ),
};
