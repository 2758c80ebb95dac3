import Router from '@koa/router';
import { z } from 'zod';
import { LIFECYCLE_STAGES } from '../../entities/contact.entity';
import { parseTimelineCursor, type ContactScope, type ContactsQueryService } from '../modules/contacts/contacts-query.service';
import type { OperatorView } from '../modules/operators/operators.service';
import type { AdminState, AuthMiddleware } from './auth.middleware';
import { notFound } from './http-error';
import { idParamSchema, parseInput } from './validate-input';

export interface AdminContactsRouterDeps {
  contactsQuery: ContactsQueryService;
  auth: AuthMiddleware;
}

const days = z.coerce.number().int().min(1).max(3650).optional();
const score = z.coerce.number().int().min(-1_000_000_000).max(1_000_000_000).optional();

/** The list's filters; the count takes the same ones, so the page and its count always agree. */
const filterSchema = z.object({
  q: z.string().max(128).optional(),
  tagId: idParamSchema.optional(),
  stage: z.enum(LIFECYCLE_STAGES).optional(),
  source: z.string().min(1).max(128).optional(),
  minScore: score,
  maxScore: score,
  activeWithinDays: days,
  silentForDays: days,
});

const listQuerySchema = filterSchema.extend({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  after: idParamSchema.optional(),
});

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

  // Keyset pages: `next` comes back as `after`. There is no offset: a deep offset reads and
  // throws away every row before it.
  router.get('/api/admin/contacts', readers, async (ctx) => {
    const query = parseInput(listQuerySchema, ctx.query);
    ctx.body = await deps.contactsQuery.searchContacts({ ...query, scope: scopeOf(ctx.state.operator) });
  });

  // Registered before /:id so that `count` is not read as an id.
  router.get('/api/admin/contacts/count', readers, async (ctx) => {
    const query = parseInput(filterSchema, ctx.query);
    ctx.body = await deps.contactsQuery.countContacts({ ...query, scope: scopeOf(ctx.state.operator) });
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

/**
 * Sales reps see the contacts they follow in WeCom (an active contact_follows row for their
 * userid); a contact outside that answers 404, not 403, so ids cannot be probed.
 */
function scopeOf(operator: OperatorView): ContactScope {
  return operator.role === 'sales' ? { kind: 'follower', userId: operator.wecomUserId } : { kind: 'all' };
}

function parseContactId(raw: string | undefined): number {
  const parsed = idParamSchema.safeParse(raw);
  if (!parsed.success) throw notFound('No such contact');
  return parsed.data;
}
