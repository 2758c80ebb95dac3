import Router from '@koa/router';
import { z } from 'zod';
import { LIFECYCLE_STAGES } from '../../entities/contact.entity';
import { SIDEBAR_NOTE_MAX_CHARS, type SidebarActionsService } from '../modules/sidebar/sidebar-actions.service';
import type { SidebarReader, SidebarRefusal, SidebarService } from '../modules/sidebar/sidebar.service';
import type { TagCatalogService } from '../modules/tags/tag-catalog.service';
import { parseLiveCursor } from '../modules/timeline/timeline.service';
import { actorOf, SIDEBAR_ACCESS, type AdminState, type AuthMiddleware } from './auth.middleware';
import { badRequest, HttpError } from './http-error';
import { idParamSchema, parseInput, parseJsonBody } from './validate-input';

export interface SidebarRouterDeps {
  sidebar: SidebarService;
  actions: SidebarActionsService;
  tagCatalog: Pick<TagCatalogService, 'listTags'>;
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

const tagIdsSchema = z.array(z.number().int().positive().max(2_147_483_647)).max(100).default([]);
const tagChangeSchema = z.strictObject({ add: tagIdsSchema, remove: tagIdsSchema });
const noteSchema = z.strictObject({
  text: z
    .string()
    .trim()
    .min(1)
    // Characters as the rep counts them (code points), not UTF-16 units.
    .refine((text) => [...text].length <= SIDEBAR_NOTE_MAX_CHARS, {
      message: `At most ${SIDEBAR_NOTE_MAX_CHARS} characters`,
      params: { code: 'note_too_long', maximum: SIDEBAR_NOTE_MAX_CHARS },
    }),
});
const stageSchema = z.strictObject({ stage: z.enum(LIFECYCLE_STAGES) });
const shareItemsQuerySchema = z.object({ contactId: idParamSchema });
const shareSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('card') }),
  z.strictObject({ kind: z.literal('invitation'), eventId: z.number().int().positive().max(2_147_483_647) }),
  z.strictObject({ kind: z.literal('material'), materialId: z.number().int().positive().max(2_147_483_647) }),
]);

/**
 * The WeCom sidebar's API (issue 16): what a rep sees of the customer in the chat. Every role's
 * operator session may call it (a rep's comes from WeCom OAuth); a sales rep only about the
 * customers they follow (403 `not_your_customer`), 404 `contact_unknown` for a customer Flywheel
 * never saw.
 */
export function createSidebarRouter(deps: SidebarRouterDeps): Router<AdminState> {
  const router = new Router<AdminState>();
  const reps = deps.auth.requireOperator(undefined, SIDEBAR_ACCESS);

  // The tag picker's list. The admin's (/api/admin/tags) is for the roles that edit the catalogue;
  // a rep reads only the names, without the counts and sync states the tags screen shows.
  router.get('/api/sidebar/tags', reps, async (ctx) => {
    const tags = await deps.tagCatalog.listTags();
    ctx.body = { items: tags.map((tag) => ({ id: tag.id, group: tag.group, name: tag.name })) };
  });

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

  // Actions: each scoped like the read and audited as `sidebar.*`; cookie sessions send the CSRF header.
  router.post('/api/sidebar/contacts/:id/tags', reps, async (ctx) => {
    const contactId = parseContactId(ctx.params.id);
    const body = await parseJsonBody(ctx, tagChangeSchema);
    const result = await deps.actions.changeTags({ contactId, ...body, reader: readerOf(ctx.state), actor: actorOf(ctx) });
    if (!result.ok && result.reason === 'unknown_tags')
      throw badRequest(
        'No such tag',
        result.tagIds.map((id) => ({ path: 'add', code: 'tag_unknown', message: `No tag has id ${id}` })),
      );
    ctx.body = { tags: unwrap(result) };
  });

  router.post('/api/sidebar/contacts/:id/notes', reps, async (ctx) => {
    const contactId = parseContactId(ctx.params.id);
    const { text } = await parseJsonBody(ctx, noteSchema);
    unwrap(await deps.actions.addNote({ contactId, text, reader: readerOf(ctx.state), actor: actorOf(ctx) }));
    ctx.status = 201;
    ctx.body = { recorded: true };
  });

  router.put('/api/sidebar/contacts/:id/stage', reps, async (ctx) => {
    const contactId = parseContactId(ctx.params.id);
    const { stage } = await parseJsonBody(ctx, stageSchema);
    ctx.body = unwrap(await deps.actions.setStage({ contactId, stage, reader: readerOf(ctx.state), actor: actorOf(ctx) }));
  });

  router.post('/api/sidebar/follow-ups/:id/done', reps, async (ctx) => {
    const followUpId = parseInput(z.object({ id: idParamSchema }), { id: ctx.params.id }).id;
    ctx.body = unwrap(await deps.actions.completeFollowUp({ followUpId, reader: readerOf(ctx.state), actor: actorOf(ctx) }));
  });

  router.get('/api/sidebar/share-items', reps, async (ctx) => {
    const { contactId } = parseInput(shareItemsQuerySchema, ctx.query);
    ctx.body = { items: unwrap(await deps.actions.listShareItems({ contactId, reader: readerOf(ctx.state) })) };
  });

  // Recorded by the page after sendChatMessage answered ok: what reached the chat is on the timeline.
  router.post('/api/sidebar/contacts/:id/shares', reps, async (ctx) => {
    const contactId = parseContactId(ctx.params.id);
    const body = await parseJsonBody(ctx, shareSchema);
    const result = await deps.actions.recordShare({
      contactId,
      kind: body.kind,
      eventId: body.kind === 'invitation' ? body.eventId : undefined,
      materialId: body.kind === 'material' ? body.materialId : undefined,
      reader: readerOf(ctx.state),
      actor: actorOf(ctx),
    });
    if (!result.ok && result.reason === 'event_not_found') throw new HttpError(404, 'event_not_found', 'No such open event');
    if (!result.ok && result.reason === 'material_not_found') throw new HttpError(404, 'not_found', 'No such live material');
    unwrap(result);
    ctx.status = 201;
    ctx.body = { recorded: true };
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
