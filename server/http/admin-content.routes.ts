import Router from '@koa/router';
import { PassThrough } from 'node:stream';
import { z } from 'zod';
import { CONTENT_KINDS } from '../../entities/content-material.entity';
import type { ContentResult, ContentService } from '../modules/content/content.service';
import { ContentStoreError, FileTooLargeError } from '../modules/content/content-storage';
import { actorOf, type AdminState, type AuthMiddleware } from './auth.middleware';
import { refuseRest } from './body';
import { HttpError, notFound } from './http-error';
import { idParamSchema, invalidFields, parseInput, parseJsonBody } from './validate-input';

export interface AdminContentRouterDeps {
  content: ContentService;
  auth: AuthMiddleware;
  maxUploadBytes: number;
}

/** MySQL's TEXT holds 65,535 bytes; a Chinese character is 3 in UTF-8, an emoji 4. */
const MAX_BODY_BYTES = 60_000;

const titleSchema = z.string().trim().min(1).max(128);
const summarySchema = z.string().max(512).nullable();
const bodySchema = z
  .string()
  .refine((body) => Buffer.byteLength(body, 'utf8') <= MAX_BODY_BYTES, {
    params: { code: 'content_body_bytes', maximum: MAX_BODY_BYTES },
    message: `At most ${MAX_BODY_BYTES} bytes of UTF-8`,
  })
  .nullable();

const createSchema = z
  .strictObject({
    kind: z.enum(CONTENT_KINDS),
    title: titleSchema,
    summary: summarySchema.optional(),
    body: bodySchema.optional(),
  })
  .superRefine((body, ctx) => {
    if (body.kind !== 'article' && body.body !== undefined && body.body !== null)
      ctx.addIssue({ code: 'custom', path: ['body'], params: { code: 'content_body_article' }, message: 'Only an article has a body' });
  });
const updateSchema = z.strictObject({ title: titleSchema.optional(), summary: summarySchema.optional(), body: bodySchema.optional() });
const listQuerySchema = z.object({
  status: z.enum(['active', 'archived', 'all']).default('active'),
  kind: z.enum(CONTENT_KINDS).optional(),
  after: idParamSchema.optional(),
  limit: z.coerce.number().int().min(1).max(100).default(50),
});
/** The file's name as the operator's computer called it: shown, never used as a path. */
const uploadQuerySchema = z.object({ name: z.string().trim().min(1).max(255).optional() });

/**
 * The content centre (内容中心): admins and operators create, edit, upload and archive materials;
 * sales reps read them (to share their links). `PUT /api/admin/content/:id/file` takes the file as
 * the raw body (any Content-Type: the first bytes decide what it is), streamed to the store.
 */
export function createAdminContentRouter(deps: AdminContentRouterDeps): Router<AdminState> {
  const router = new Router<AdminState>();
  const readers = deps.auth.requireOperator(['admin', 'operator', 'sales']);
  const editors = deps.auth.requireOperator(['admin', 'operator']);

  router.get('/api/admin/content', readers, async (ctx) => {
    const query = parseInput(listQuerySchema, ctx.query);
    ctx.body = await deps.content.listMaterials(query);
  });

  router.get('/api/admin/content/:id', readers, async (ctx) => {
    const material = await deps.content.getMaterial(parseContentId(ctx.params.id));
    if (!material) throw notFound('No such material');
    ctx.body = material;
  });

  router.post('/api/admin/content', editors, async (ctx) => {
    const body = await parseJsonBody(ctx, createSchema);
    ctx.body = unwrap(await deps.content.createMaterial({ ...body, actor: actorOf(ctx) }));
    ctx.status = 201;
  });

  router.put('/api/admin/content/:id', editors, async (ctx) => {
    const id = parseContentId(ctx.params.id);
    const body = await parseJsonBody(ctx, updateSchema);
    ctx.body = unwrap(await deps.content.updateMaterial({ id, ...body, actor: actorOf(ctx) }));
  });

  router.post('/api/admin/content/:id/archive', editors, async (ctx) => {
    const archived = unwrap(await deps.content.archiveMaterial({ id: parseContentId(ctx.params.id), actor: actorOf(ctx) }));
    ctx.body = { archived: true, id: archived.id };
  });

  router.put('/api/admin/content/:id/file', editors, async (ctx) => {
    const id = parseContentId(ctx.params.id);
    const { name } = parseInput(uploadQuerySchema, ctx.query);
    const declared = Number(ctx.get('content-length') || NaN);
    if (Number.isFinite(declared) && declared > deps.maxUploadBytes) {
      refuseRest(ctx);
      throw tooLarge(deps.maxUploadBytes);
    }
    // The store reads from a pass-through, not from the request: a failed write destroys the
    // pass-through, and the request stays open for the 413 to reach the client.
    const source = new PassThrough();
    ctx.req.pipe(source);
    try {
      ctx.body = unwrap(await deps.content.uploadFile({ id, source, fileName: name ?? null, actor: actorOf(ctx) }));
    } catch (error) {
      ctx.req.unpipe(source);
      if (error instanceof FileTooLargeError) {
        refuseRest(ctx);
        throw tooLarge(deps.maxUploadBytes);
      }
      if (error instanceof ContentStoreError) throw new HttpError(502, 'content_store_failed', error.message, { code: error.code });
      throw error;
    }
  });

  return router;
}

function tooLarge(maxBytes: number): HttpError {
  return new HttpError(413, 'payload_too_large', `The file is larger than ${maxBytes} bytes`, { maxBytes });
}

function unwrap<T>(result: ContentResult<T>): T {
  if (result.ok) return result.value;
  switch (result.reason) {
    case 'not_found':
      throw notFound('No such material');
    case 'invalid':
      throw invalidFields(result.issues);
    case 'file_type':
      throw new HttpError(415, 'content_file_type', result.message);
  }
}

function parseContentId(raw: string | undefined): number {
  const parsed = idParamSchema.safeParse(raw);
  if (!parsed.success) throw notFound('No such material');
  return parsed.data;
}
