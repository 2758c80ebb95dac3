import Router from '@koa/router';
import { z } from 'zod';
import { parseTimelineCursor, type ContactScope, type ContactsQueryService } from '../modules/contacts/contacts-query.service';
import type { OperatorView } from '../modules/operators/operators.service';
import type { AdminState, AuthMiddleware } from './auth.middleware';
import { notFound } from './http-error';
import { idParamSchema, pageQuerySchema, parseInput } from './validate-input';

export interface AdminContactsRouterDeps {
  contactsQuery: ContactsQueryService;
  auth: AuthMiddleware;
}

const listQuerySchema = pageQuerySchema.extend({ q: z.string().max(128).optional() });

const timelineQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(50),
  before: z
    .string()
    .transform((text, ctx) => {
      const cursor = parseTimelineCursor(text);
      if (!cursor) ctx.addIssue({ code: 'custom', message: 'Expected an ISO time or the nextBefore value of the previous page' });
      return cursor ?? z.NEVER;
    })
    .optional(),
});

/** Contact list, profile and timeline. Every role reads them; sales reps only their own contacts. */
export function createAdminContactsRouter(deps: AdminContactsRouterDeps): Router<AdminState> {
  const router = new Router<AdminState>();
  const readers = deps.auth.requireOperator(['admin', 'operator', 'sales']);

  router.get('/api/admin/contacts', readers, async (ctx) => {
    const query = parseInput(listQuerySchema, ctx.query);
    ctx.body = await deps.contactsQuery.searchContacts({ q: query.q, limit: query.limit, offset: query.offset, scope: scopeOf(ctx.state.operator) });
  });

  router.get('/api/admin/contacts/:id', readers, async (ctx) => {
    const id = parseContactId(ctx.params.id);
    const { operator } = ctx.state;
    const contact = await deps.contactsQuery.getContact({ id, scope: scopeOf(operator), maskPhones: operator.role === 'sales' });
    if (!contact) throw notFound('No such contact');
    ctx.body = contact;
  });

  router.get('/api/admin/contacts/:id/timeline', readers, async (ctx) => {
    const id = parseContactId(ctx.params.id);
    const query = parseInput(timelineQuerySchema, ctx.query);
    const timeline = await deps.contactsQuery.listTimeline({ contactId: id, scope: scopeOf(ctx.state.operator), limit: query.limit, before: query.before });
    if (!timeline) throw notFound('No such contact');
    ctx.body = timeline;
  });

  return router;
}

/** Sales reps see the contacts they own (by WeCom userid); a contact outside that answers 404, not 403, so ids cannot be probed. */
function scopeOf(operator: OperatorView): ContactScope {
  return operator.role === 'sales' ? { kind: 'owner', ownerUserId: operator.wecomUserId } : { kind: 'all' };
}

function parseContactId(raw: string | undefined): number {
  const parsed = idParamSchema.safeParse(raw);
  if (!parsed.success) throw notFound('No such contact');
  return parsed.data;
}
