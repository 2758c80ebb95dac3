import type { WecomAgentClient } from '../../adapters/wecom-agent.client';
import { PlatformApiError } from '../../adapters/platform-error';
import type { OperatorsService } from '../operators/operators.service';

/** "48002 API接口无权限调用": the app may not call the customer-contact API. */
const ERRCODE_API_FORBIDDEN = 48002;
/** The root department: a visible range holding it is the whole corp. */
const ROOT_DEPARTMENT_ID = 1;

/** A platform call that failed, as the setup screen shows it. */
export interface SidebarCheckFailure {
  ok: false;
  errcode?: number;
  meaning?: string;
  error: string;
}

export interface SidebarAppCheck {
  ok: true;
  name: string;
  /** Members named in the visible range (可见范围); departments and tags are counted apart. */
  visibleUserIds: string[];
  visiblePartyIds: number[];
  visibleTagIds: number[];
  /** The whole corp can see the app (the root department is in the range). */
  visibleToAll: boolean;
  /** The app's trusted domain (可信域名), and whether it is PUBLIC_BASE_URL's host (OAuth2 and the JS-SDK need it). */
  redirectDomain: string;
  expectedDomain: string;
  domainMatches: boolean;
  /** The app is disabled in the admin console. */
  closed: boolean;
}

export interface SidebarCustomerContactCheck {
  ok: true;
  /** The members set up for customer contact (配置了客户联系功能的成员). */
  followUserIds: string[];
}

export interface SidebarRepCheck {
  operatorId: number;
  username: string;
  displayName: string | null;
  role: string;
  wecomUserId: string;
  disabled: boolean;
  /** null: unknown (the range names departments or tags the API cannot expand here), or the app check failed. */
  inVisibleRange: boolean | null;
  /** null: the customer-contact check failed. */
  inFollowUserList: boolean | null;
  /** Sandbox mode: opens the sidebar as this rep (add `&externalUserId=` for the customer). */
  previewUrl: string | null;
}

export interface SidebarSetupView {
  configured: boolean;
  /** The page to set as the app's 聊天工具栏 / 客户详情 page. */
  sidebarUrl: string;
  app: SidebarAppCheck | SidebarCheckFailure | null;
  /** `missingPermission`: 48002, the app is not allowed to call the customer-contact API. */
  customerContact: SidebarCustomerContactCheck | (SidebarCheckFailure & { missingPermission: boolean }) | null;
  reps: SidebarRepCheck[];
  /** Sandbox mode: `GET` it with `?userid=&externalUserId=` to try the sidebar as a rep on a customer. */
  previewUrl: string | null;
}

export interface SidebarSetupDeps {
  publicBaseUrl: string;
  sandbox: boolean;
  /** null: WeCom or its self-built app is not configured. */
  agent: Pick<WecomAgentClient, 'getAgent' | 'getFollowUserList'> | null;
  operators: Pick<OperatorsService, 'listOperators'>;
}

/** The sandbox's "try the sidebar" route (server/http/admin-sandbox.routes.ts). */
export const SANDBOX_SIDEBAR_PREVIEW_PATH = '/api/admin/sandbox/sidebar';

/**
 * What the API can tell about the sidebar's WeCom setup (issue 16 §2b), for the admin's setup
 * screen: the app (agent/get: visible range, trusted domain), the customer-contact permission and
 * its members (get_follow_user_list with the app's token), and each rep (an operator with a
 * wecom_user_id) against both. What the API cannot tell (the 聊天工具栏 page configured in the
 * console) is left to the page to say.
 */
export class SidebarSetupService {
  constructor(private readonly deps: SidebarSetupDeps) {}

  async checkSidebar(): Promise<SidebarSetupView> {
    const { agent, publicBaseUrl, sandbox } = this.deps;
    const expectedDomain = new URL(publicBaseUrl).host;
    const previewUrl = sandbox ? SANDBOX_SIDEBAR_PREVIEW_PATH : null;
    const operators = (await this.deps.operators.listOperators()).filter((o) => o.wecomUserId !== null && o.wecomUserId !== '');
    let app: SidebarSetupView['app'] = null;
    let customerContact: SidebarSetupView['customerContact'] = null;
    if (agent) {
      const [agentInfo, followUsers] = await Promise.all([settle(() => agent.getAgent()), settle(() => agent.getFollowUserList())]);
      app = agentInfo.ok
        ? {
            ok: true,
            name: agentInfo.value.name,
            visibleUserIds: agentInfo.value.visibleUserIds,
            visiblePartyIds: agentInfo.value.visiblePartyIds,
            visibleTagIds: agentInfo.value.visibleTagIds,
            visibleToAll: agentInfo.value.visiblePartyIds.includes(ROOT_DEPARTMENT_ID),
            redirectDomain: agentInfo.value.redirectDomain,
            expectedDomain,
            // The console stores a domain, sometimes with a port: either spelling of this host matches.
            domainMatches: [expectedDomain, new URL(publicBaseUrl).hostname].includes(agentInfo.value.redirectDomain.toLowerCase()),
            closed: agentInfo.value.closed,
          }
        : agentInfo.failure;
      customerContact = followUsers.ok
        ? { ok: true, followUserIds: followUsers.value }
        : { ...followUsers.failure, missingPermission: followUsers.failure.errcode === ERRCODE_API_FORBIDDEN };
    }
    const lower = (ids: string[]) => new Set(ids.map((id) => id.toLowerCase()));
    const visible = app?.ok ? lower(app.visibleUserIds) : null;
    const following = customerContact?.ok ? lower(customerContact.followUserIds) : null;
    const reps = operators.map((o): SidebarRepCheck => {
      // WeCom userids are case-insensitive ("不区分大小写").
      const userId = (o.wecomUserId ?? '').toLowerCase();
      let inVisibleRange: boolean | null = null;
      if (app?.ok && visible)
        inVisibleRange =
          app.visibleToAll || visible.has(userId) ? true : app.visiblePartyIds.length + app.visibleTagIds.length > 0 ? null : false;
      return {
        operatorId: o.id,
        username: o.username,
        displayName: o.displayName,
        role: o.role,
        wecomUserId: o.wecomUserId ?? '',
        disabled: o.disabled,
        inVisibleRange,
        inFollowUserList: following ? following.has(userId) : null,
        previewUrl: previewUrl === null ? null : `${previewUrl}?userid=${encodeURIComponent(o.wecomUserId ?? '')}`,
      };
    });
    return { configured: agent !== null, sidebarUrl: `${publicBaseUrl}/sidebar/`, app, customerContact, reps, previewUrl };
  }
}

type Settled<T> = { ok: true; value: T } | { ok: false; failure: SidebarCheckFailure };

/** A platform call's answer, or its failure as the screen shows it (never thrown: each check stands alone). */
async function settle<T>(call: () => Promise<T>): Promise<Settled<T>> {
  try {
    return { ok: true, value: await call() };
  } catch (error) {
    if (error instanceof PlatformApiError)
      return { ok: false, failure: { ok: false, errcode: error.errcode, meaning: error.meaning, error: error.message } };
    return { ok: false, failure: { ok: false, error: error instanceof Error ? error.message : String(error) } };
  }
}
