import Router from '@koa/router';
import { z } from 'zod';
import type { Clock } from '../adapters/clock';
import type { SandboxClockStore } from '../modules/sandbox/sandbox-clock.store';
import type { SandboxFollowersService } from '../modules/sandbox/sandbox-followers.service';
import type { SidebarSignInService } from '../modules/sidebar/sidebar-sign-in.service';
import type { VisitorsService } from '../modules/visitors/visitors.service';
import type { AdminState, AuthMiddleware } from './auth.middleware';
import { HttpError } from './http-error';
import { serializeCookie } from './session-cookies';
import { idParamSchema, parseInput } from './validate-input';
import { OAUTH_NONCE_COOKIE, VISITOR_COOKIE } from './visitor.middleware';

export interface AdminSandboxRouterDeps {
  followers: SandboxFollowersService;
  clockStore: SandboxClockStore;
  /** The sandbox's (skippable) clock: what "now" is for Flywheel. */
  clock: Clock;
  auth: AuthMiddleware;
  /** The H5 pages' web OAuth (null: no Official Account, so no visit can be played). */
  visitors: VisitorsService | null;
  /** The WeCom sidebar's sign-in (disabled: no WeCom app, so no rep can be played). */
  sidebarSignIn: SidebarSignInService | null;
  /** Secure cookies when the site is https. */
  publicBaseUrl: string;
}

const visitQuerySchema = z.strictObject({
  openid: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/),
  eventId: idParamSchema,
  channelId: idParamSchema.optional(),
});
/** How long the OAuth trip may take (the visitor middleware's nonce cookie lives as long). */
const NONCE_MAX_AGE_SECONDS = 10 * 60;

const sidebarQuerySchema = z.strictObject({
  userid: z.string().regex(/^[A-Za-z0-9_.@-]{1,64}$/),
  externalUserId: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/)
    .optional(),
});

const followersQuerySchema = z.object({
  q: z.string().max(128).default(''),
  limit: z.coerce.number().int().min(1).max(50).default(20),
});

/** The sandbox panel's reads (registered in sandbox mode only; elsewhere these paths are 404). */
export function createAdminSandboxRouter(deps: AdminSandboxRouterDeps): Router<AdminState> {
  const router = new Router<AdminState>();
  const marketers = deps.auth.requireOperator(['admin', 'operator']);
  const admins = deps.auth.requireOperator(['admin']);

  router.get('/api/admin/sandbox/followers', marketers, async (ctx) => {
    const query = parseInput(followersQuerySchema, ctx.query);
    ctx.body = { items: await deps.followers.searchFollowers(query) };
  });

  // The offset is stored with each skip and read back at start-up, so it survives a restart.
  router.get('/api/admin/sandbox/clock', marketers, async (ctx) => {
    const offsetMs = await deps.clockStore.readOffsetMs();
    ctx.body = { now: deps.clock.now().toISOString(), offsetSeconds: Math.floor(offsetMs / 1000), persisted: true };
  });

  /**
   * Opens an event's invitation page as a follower inside "WeChat" (issue 15 §8): this browser
   * forgets the visitor it was, and goes through web OAuth as the visitor middleware sends a
   * WeChat browser (the same signed state, its nonce cookie), with `openid` added for the sandbox's
   * authorize page, which plays that follower. Coming back, the page's middleware exchanges the
   * code: the page ends identified as the follower, so what they do there (a visit, a
   * registration) is theirs.
   */
  router.get('/api/admin/sandbox/visit', marketers, async (ctx) => {
    const query = parseInput(visitQuerySchema, ctx.query);
    if (!deps.visitors?.enabled) throw new HttpError(409, 'conflict', 'Web OAuth needs an Official Account');
    const page = `/e/${query.eventId}${query.channelId === undefined ? '' : `?ch=${query.channelId}`}`;
    const browserNonce = ctx.cookies.get(OAUTH_NONCE_COOKIE) ?? null;
    const { location, nonce } = await deps.visitors.startAuthorization({ url: page, nonce: browserNonce, attempt: 0 });
    const secure = deps.publicBaseUrl.startsWith('https:') || ctx.secure;
    ctx.append('Set-Cookie', serializeCookie(VISITOR_COOKIE, '', { maxAge: 0, httpOnly: true, secure }));
    if (nonce !== browserNonce)
      ctx.append('Set-Cookie', serializeCookie(OAUTH_NONCE_COOKIE, nonce, { maxAge: NONCE_MAX_AGE_SECONDS, httpOnly: true, secure }));
    const authorize = new URL(location);
    authorize.searchParams.set('openid', query.openid);
    ctx.set('Cache-Control', 'no-store');
    ctx.redirect(authorize.toString());
  });

  /**
   * "Try the sidebar" (issue 16 §2b): opens /sidebar as the WeCom member `userid` in a chat with
   * `externalUserId`: the sandbox's chat is set on its authorize page (`external_userid`), and the
   * browser goes through the sidebar's own OAuth2 (the same signed state and nonce cookie), so it
   * ends signed in as that rep. That session replaces this browser's admin session (one fw_session
   * per browser): the admin page asks for a login afterwards.
   */
  router.get('/api/admin/sandbox/sidebar', admins, async (ctx) => {
    const query = parseInput(sidebarQuerySchema, ctx.query);
    if (!deps.sidebarSignIn?.enabled) throw new HttpError(409, 'conflict', 'The sidebar needs WeCom and its self-built app');
    const browserNonce = ctx.cookies.get(OAUTH_NONCE_COOKIE) ?? null;
    const { location, nonce } = await deps.sidebarSignIn.startAuthorization({ url: '/sidebar/', nonce: browserNonce, attempt: 0 });
    const secure = deps.publicBaseUrl.startsWith('https:') || ctx.secure;
    if (nonce !== browserNonce)
      ctx.append('Set-Cookie', serializeCookie(OAUTH_NONCE_COOKIE, nonce, { maxAge: NONCE_MAX_AGE_SECONDS, httpOnly: true, secure }));
    const authorize = new URL(location);
    authorize.searchParams.set('userid', query.userid);
    if (query.externalUserId !== undefined) authorize.searchParams.set('external_userid', query.externalUserId);
    ctx.set('Cache-Control', 'no-store');
    ctx.redirect(authorize.toString());
  });

  return router;
}
