import { reactive } from 'vue';
import { api, ApiError, request } from '@shared/api';
import type { Me, PageConfig, Role } from '@shared/types';

/** Who is signed in and how the server is set up; one per page. */
export const session = reactive<{ me: Me | null; config: PageConfig; loaded: boolean }>({
  me: null,
  config: { sandbox: false, timezone: 'Asia/Shanghai', locale: 'zh-CN' },
  loaded: false,
});

/** Reads /me (null when signed out) and /config. */
export async function refreshSession(): Promise<void> {
  try {
    // Quiet: a 401 here only means signed out, and the router's guard sends the visitor to the
    // login page with the page they asked for. Handed to the auth-error listener, it ran before the
    // first navigation ended and pushed /login?redirect=/ on top: a second navigation, the page
    // asked for lost, and Chromium fetching the favicon again.
    session.me = await request<Me>('GET', '/api/admin/me', { quiet: true });
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 401) throw error;
    session.me = null;
  }
  if (session.me && !session.me.mustChangePassword) {
    session.config = await api.get<PageConfig>('/api/admin/config').catch(() => session.config);
  }
  session.loaded = true;
}

export function homeOf(role: Role): string {
  return role === 'sales' ? '/contacts' : '/dashboard';
}
