import Router from '@koa/router';
import { z } from 'zod';
import { LIFECYCLE_STAGES } from '../../entities/contact.entity';
import { Readable } from 'node:stream';
import {
  contactCsvLabels,
  CSV_BOM,
  CSV_LOCALES,
  formatContactCsvRow,
  formatCsvRow,
  type CsvLocale,
} from '../modules/contacts/contacts-csv';
import type { ContactListFilter, ContactScope, ContactsQueryService } from '../modules/contacts/contacts-query.service';
import { parseTimelineCursor, TIMELINE_KINDS, type TimelineService } from '../modules/timeline/timeline.service';
import {
  normalizeTimeZone,
  REMARK_MAX_LENGTH,
  type ContactNotesService,
  type UpdateContactNotesResult,
} from '../modules/contacts/contact-notes.service';
import type { OperatorView } from '../modules/operators/operators.service';
import type { ManualTaggingService, TaggingResult } from '../modules/tags/manual-tagging.service';
import type { AuditService } from '../modules/audit/audit.service';
import { actorOf, type AdminState, type AuthMiddleware } from './auth.middleware';
import { badRequest, notFound } from './http-error';
import { idParamSchema, parseInput, parseJsonBody, typedPhoneSchema } from './validate-input';
import { CONTACT_SEARCH_MAX_CHARS, contactFilterProblemsOf } from '../../web/shared/field-rules';

export interface AdminContactsRouterDeps {
  contactsQuery: ContactsQueryService;
  timeline: TimelineService;
  manualTagging: ManualTaggingService;
  contactNotes: ContactNotesService;
  audit: AuditService;
  auth: AuthMiddleware;
}

/** Rows of the CSV export fetched per keyset page. */
const EXPORT_PAGE_SIZE = 500;
/** The selected rows a bulk change takes at once; more goes through a filter job. */
const MAX_SELECTED = 500;

const days = z.coerce.number().int().min(1).max(3650).optional();
const score = z.coerce.number().int().min(-1_000_000_000).max(1_000_000_000).optional();

/**
 * A filter that can match nobody by construction is a mistake to point at, not an empty list:
 * the lowest score above the highest, a search longer than anything searched (the page checks the
 * same rules in web/shared/field-rules.ts before it sends).
 */
function checkFilter(filter: { q?: string; minScore?: number; maxScore?: number }, ctx: z.RefinementCtx): void {
  for (const { path, ...problem } of contactFilterProblemsOf(filter))
    ctx.addIssue({ code: 'custom', path: [path], message: `Filter refused: ${problem.code}`, params: { ...problem } });
}

/** The list's filters; the count takes the same ones, so the page and its count always agree. */
const filterSchema = z.object({
  // A hard cap for the request; the search's own limit is CONTACT_SEARCH_MAX_CHARS characters (checkFilter).
  q: z
    .string()
    .max(4 * CONTACT_SEARCH_MAX_CHARS)
    .optional(),
  tagId: idParamSchema.optional(),
  stage: z.enum(LIFECYCLE_STAGES).optional(),
  source: z.string().min(1).max(128).optional(),
  minScore: score,
  maxScore: score,
  activeWithinDays: days,
  silentForDays: days,
});

/** The export also takes the operator's locale for its headers and stage words. */
const csvQuerySchema = filterSchema.extend({ locale: z.enum(CSV_LOCALES).default('zh-CN') });

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
      if (!cursor)
        ctx.addIssue({
          code: 'custom',
          message: 'Expected an ISO time or the nextBefore value of the previous page',
          params: { code: 'time_or_cursor' },
        });
      return cursor ?? z.NEVER;
    })
    .optional(),
  // Interactions only unless asked: the timeline's public shape ({type, channel, at, detail}, DESIGN.md)
  // stays what scripts read; the admin page asks for `interaction,tag_change,score`.
  kinds: z
    .string()
    .default('interaction')
    .transform((text) => text.split(','))
    .pipe(z.array(z.enum(TIMELINE_KINDS)).min(1)),
});

const tagIdsSchema = z.array(z.number().int().positive().max(2_147_483_647)).max(100).default([]);
const tagChangeSchema = z.strictObject({ add: tagIdsSchema, remove: tagIdsSchema });
const bodyFilterSchema = z.strictObject({
  q: z
    .string()
    .max(4 * CONTACT_SEARCH_MAX_CHARS)
    .optional(),
  tagId: z.number().int().positive().max(2_147_483_647).optional(),
  stage: z.enum(LIFECYCLE_STAGES).optional(),
  source: z.string().min(1).max(128).optional(),
  minScore: z.number().int().min(-1_000_000_000).max(1_000_000_000).optional(),
  maxScore: z.number().int().min(-1_000_000_000).max(1_000_000_000).optional(),
  activeWithinDays: z.number().int().min(1).max(3650).optional(),
  silentForDays: z.number().int().min(1).max(3650).optional(),
});
const bulkTagsSchema = z.union([
  tagChangeSchema.extend({ contactIds: z.array(z.number().int().positive().max(2_147_483_647)).min(1).max(MAX_SELECTED) }),
  tagChangeSchema.extend({ filter: bodyFilterSchema.superRefine(checkFilter) }),
]);
/** The operator's notes: a remark (shown as the name), a phone and a time zone; '' or null removes one. */
const notesSchema = z
  .strictObject({
    remark: z.string().max(REMARK_MAX_LENGTH).nullable().optional(),
    phone: typedPhoneSchema.optional(),
    // An IANA name; null or '' puts the contact back on the business zone.
    timeZone: z
      .string()
      .max(64)
      .nullable()
      .transform((text, ctx) => {
        if (text === null || text.trim() === '') return null;
        const zone = normalizeTimeZone(text);
        if (zone === null)
          ctx.addIssue({
            code: 'custom',
            message: 'Expected an IANA time zone such as Asia/Shanghai',
            params: { code: 'time_zone_format' },
          });
        return zone ?? z.NEVER;
      })
      .optional(),
  })
  .refine((body) => body.remark !== undefined || body.phone !== undefined || body.timeZone !== undefined, {
    message: 'Expected remark, phone or timeZone',
  });
const ledgerQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(50),
  before: idParamSchema.optional(),
});

/** Contact list, profile and timeline. Every role reads them; sales reps only their own contacts. */
export function createAdminContactsRouter(deps: AdminContactsRouterDeps): Router<AdminState> {
  const router = new Router<AdminState>();
  const readers = deps.auth.requireOperator(['admin', 'operator', 'sales']);
  const marketers = deps.auth.requireOperator(['admin', 'operator']);

  // Every matching contact as CSV, streamed page by page (keyset), never one giant result.
  router.get('/api/admin/contacts.csv', marketers, async (ctx) => {
    const { locale, ...filter } = parseInput(csvQuerySchema.superRefine(checkFilter), ctx.query);
    await deps.audit.record({
      operatorId: ctx.state.operator.id,
      ip: ctx.ip,
      action: 'contact.export',
      targetType: 'contact',
      detail: { filter: JSON.stringify(filter) },
    });
    ctx.type = 'text/csv; charset=utf-8';
    ctx.attachment('contacts.csv');
    ctx.body = Readable.from(exportCsv(deps.contactsQuery, filter, locale));
  });

  // Registered before /:id: `bulk-tags` is not an id.
  router.post('/api/admin/contacts/bulk-tags', marketers, async (ctx) => {
    const body = await parseJsonBody(ctx, bulkTagsSchema);
    const actor = actorOf(ctx);
    if ('contactIds' in body) {
      ctx.body = unwrapTagging(
        await deps.manualTagging.bulkTagContacts({ contactIds: body.contactIds, add: body.add, remove: body.remove, actor }),
      );
      return;
    }
    ctx.body = unwrapTagging(
      await deps.manualTagging.enqueueBulkTagJob({ filter: body.filter, add: body.add, remove: body.remove, actor }),
    );
    ctx.status = 202;
  });

  router.get('/api/admin/bulk-jobs/:id', marketers, async (ctx) => {
    const parsed = idParamSchema.safeParse(ctx.params.id);
    const job = parsed.success ? await deps.manualTagging.getBulkJob(parsed.data) : null;
    if (!job) throw notFound('No such bulk job');
    ctx.body = job;
  });

  // Keyset pages: `next` comes back as `after`. There is no offset: a deep offset reads and
  // throws away every row before it.
  router.get('/api/admin/contacts', readers, async (ctx) => {
    const query = parseInput(listQuerySchema.superRefine(checkFilter), ctx.query);
    ctx.body = await deps.contactsQuery.searchContacts({ ...query, scope: scopeOf(ctx.state.operator) });
  });

  // Registered before /:id so that `count` is not read as an id.
  router.get('/api/admin/contacts/count', readers, async (ctx) => {
    const query = parseInput(filterSchema.superRefine(checkFilter), ctx.query);
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
    const timeline = await deps.timeline.listTimeline({
      contactId: id,
      scope: scopeOf(ctx.state.operator),
      limit: query.limit,
      before: query.before,
      kinds: query.kinds,
    });
    if (!timeline) throw notFound('No such contact');
    ctx.body = timeline;
  });

  router.get('/api/admin/contacts/:id/score-ledger', readers, async (ctx) => {
    const id = parseContactId(ctx.params.id);
    const query = parseInput(ledgerQuerySchema, ctx.query);
    const ledger = await deps.contactsQuery.listScoreLedger({
      contactId: id,
      scope: scopeOf(ctx.state.operator),
      limit: query.limit,
      before: query.before,
    });
    if (!ledger) throw notFound('No such contact');
    ctx.body = ledger;
  });

  // Sales reps tag the customers they follow (the sidebar's use); others answer 404 as for reading.
  router.post('/api/admin/contacts/:id/tags', readers, async (ctx) => {
    const id = parseContactId(ctx.params.id);
    const body = await parseJsonBody(ctx, tagChangeSchema);
    const tags = unwrapTagging(
      await deps.manualTagging.setContactTags({
        contactId: id,
        scope: scopeOf(ctx.state.operator),
        add: body.add,
        remove: body.remove,
        actor: actorOf(ctx),
      }),
    );
    ctx.body = { tags };
  });

  // The remark and phone an operator keeps on a contact; who may is who may tag it (sales: their own).
  router.patch('/api/admin/contacts/:id', readers, async (ctx) => {
    const id = parseContactId(ctx.params.id);
    const body = await parseJsonBody(ctx, notesSchema);
    ctx.body = unwrapNotes(
      await deps.contactNotes.updateContactNotes({
        contactId: id,
        scope: scopeOf(ctx.state.operator),
        remark: body.remark,
        phone: body.phone,
        timeZone: body.timeZone,
        actor: actorOf(ctx),
      }),
    );
  });

  return router;
}

function unwrapNotes(result: UpdateContactNotesResult) {
  if (result.ok) return result.value;
  throw notFound('No such contact');
}

async function* exportCsv(contactsQuery: ContactsQueryService, filter: ContactListFilter, locale: CsvLocale): AsyncGenerator<string> {
  const labels = contactCsvLabels(locale);
  yield CSV_BOM + formatCsvRow(labels.headers);
  let after: number | undefined;
  for (;;) {
    const page = await contactsQuery.searchContacts({
      ...filter,
      scope: { kind: 'all' },
      limit: EXPORT_PAGE_SIZE,
      after,
      countTotal: false,
    });
    if (page.items.length > 0) yield page.items.map((item) => formatContactCsvRow(item, labels)).join('');
    if (page.next === null) return;
    after = page.next;
  }
}

function unwrapTagging<T>(result: TaggingResult<T>): T {
  if (result.ok) return result.value;
  if (result.reason === 'not_found') throw notFound('No such contact');
  throw badRequest(
    'No such tag',
    result.tagIds.map((id) => ({ path: 'add', message: `No tag has id ${id}` })),
  );
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
