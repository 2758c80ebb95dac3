import Router from '@koa/router';
import { z } from 'zod';
import type { SidebarReader, SidebarRefusal, SidebarService } from '../modules/sidebar/sidebar.service';
import { parseLiveCursor } from '../modules/timeline/timeline.service';
import type { AdminState, AuthMiddleware } from './auth.middleware';
import { HttpError } from './http-error';
import { idParamSchema, parseInput } from './validate-input';

export interface SidebarRouterDeps {
  sidebar: SidebarService;
  auth: AuthMiddleware;
}

/** A WeCom external_userid as WeCom issues them (`wm…`/`wo…`, letters, digits, `_` and `-`). */
const externalUserIdSchema = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/);

const liveQuerySchema = z.object({
  after: z.string().transform((text, ctx) => {
    const cursor = parseLiveCursor(text);
    if (!cursor) ctx.addIssue({ code: 'custom', message: 'Expected the `after` of the previous read', params: { code: 'time_or_cursor' } });
    return text;
  }),
});

/**
 * The WeCom sidebar's API (issue 16): what a rep sees of the customer in the chat. Every role's
 * operator session may call it (a rep's comes from WeCom OAuth); a sales rep only about the
 * customers they follow (403 `not_your_customer`), 404 `contact_unknown` for a customer Flywheel
 * never saw.
 */
export function createSidebarRouter(deps: SidebarRouterDeps): Router<AdminState> {
  const router = new Router<AdminState>();
  const reps = deps.auth.requireOperator(['admin', 'operator', 'sales']);

  router.get('/api/sidebar/contacts/by-external/:externalUserId', reps, async (ctx) => {
    const externalUserId = parseInput(z.object({ externalUserId: externalUserIdSchema }), ctx.params).externalUserId;
    ctx.body = unwrap(await deps.sidebar.getProfile(externalUserId, readerOf(ctx.state)));
  });

  // Polled every few seconds by the page: what is new on the timeline since its cursor.
  router.get('/api/sidebar/contacts/:id/timeline', reps, async (ctx) => {
    const contactId = parseContactId(ctx.params.id);
    const { after } = parseInput(liveQuerySchema, ctx.query);
    ctx.body = unwrap(await deps.sidebar.listTimelineAfter({ contactId, after, reader: readerOf(ctx.state) }));
  });

  return router;
}

export function readerOf(state: AdminState): SidebarReader {
  const { operator } = state;
  return { operatorId: operator.id, role: operator.role, wecomUserId: operator.wecomUserId };
}

export function unwrap<T>(result: { ok: true; value: T } | SidebarRefusal): T {
  if (result.ok) return result.value;
  switch (result.reason) {
    case 'contact_unknown':
      throw new HttpError(404, 'contact_unknown', 'Flywheel has never seen this customer');
    case 'not_your_customer':
      throw new HttpError(403, 'not_your_customer', 'This customer is not one you follow');
    case 'followup_not_found':
      throw new HttpError(404, 'followup_not_found', 'No such follow-up');
  }
}

/** A contact id in the path: 400 when it is not one, as the other id parameters. */
export function parseContactId(raw: string | undefined): number {
  return parseInput(z.object({ id: idParamSchema }), { id: raw }).id;
}
