import Router from '@koa/router';
import { z } from 'zod';
import { CHANNEL_KINDS } from '../../entities/channel.entity';
import type { ChannelResult, ChannelsService } from '../modules/channels/channels.service';
import { actorOf, type AdminState, type AuthMiddleware } from './auth.middleware';
import { conflict, HttpError, notFound } from './http-error';
import { idParamSchema, invalidFields, parseInput, parseJsonBody } from './validate-input';

export interface AdminChannelsRouterDeps {
  channels: ChannelsService;
  auth: AuthMiddleware;
}

/** "最大不超过2592000（即30天）" (qrcode/create expire_seconds). */
const MAX_TEMPORARY_QR_S = 2_592_000;

const nameSchema = z.string().trim().min(1).max(64);
/** Yuan, at most two decimals, below ten million. */
const costSchema = z
  .number()
  .min(0)
  .max(9_999_999.99)
  .refine((value) => Math.abs(Math.round(value * 100) - value * 100) < 1e-6, {
    params: { code: 'cost_cents' },
    message: 'At most two decimals',
  });
const tagsSchema = z.array(z.number().int().positive()).max(20);
/** send_welcome_msg text.content: "最多4000个字节"; the passive reply is shorter than that too. */
const welcomeSchema = z.string().max(1000).nullable();
const eventIdSchema = z.number().int().positive().nullable();
/** A mini-program page path: "根路径前不要填加 /，不能携带参数（参数请放在scene字段里）". */
const pageSchema = z
  .string()
  .regex(/^[A-Za-z0-9_\-/]+$/)
  .max(128)
  .refine((page) => !page.startsWith('/'), {
    params: { code: 'mp_page_format' },
    message: 'No leading slash',
  });
/** A path on PUBLIC_BASE_URL for an H5 link. */
const pathSchema = z
  .string()
  .regex(/^\/[A-Za-z0-9_\-./~%]*$/)
  .max(256);
const offerProductIdSchema = z.number().int().positive().max(2_147_483_647).nullable();
const userIdsSchema = z.array(z.string().trim().min(1).max(64)).min(1).max(100);

const createSchema = z
  .strictObject({
    name: nameSchema,
    kind: z.enum(CHANNEL_KINDS),
    cost: costSchema.nullable().optional(),
    eventId: eventIdSchema.optional(),
    tags: tagsSchema.optional(),
    welcome: welcomeSchema.optional(),
    /** oa_qr: temporary for this many seconds; permanent when left out. */
    expireSeconds: z.number().int().min(60).max(MAX_TEMPORARY_QR_S).optional(),
    /** wecom_contact_way: the members customers add (one: 单人, several: 多人). */
    userIds: userIdsSchema.optional(),
    /** mp_code: the page the code opens. */
    page: pageSchema.optional(),
    /** h5: the path the link opens. */
    path: pathSchema.optional(),
    /** A product whose offer link (/e/offer/<id>) the welcome carries: the trial offer to new followers. */
    offerProductId: offerProductIdSchema.optional(),
  })
  .superRefine((body, ctx) => {
    const only = (field: 'expireSeconds' | 'userIds' | 'page' | 'path', kind: string) => {
      if (body[field] !== undefined && body.kind !== kind)
        ctx.addIssue({ code: 'custom', path: [field], params: { code: 'channel_field_kind', kind }, message: `Only for ${kind}` });
    };
    only('expireSeconds', 'oa_qr');
    only('userIds', 'wecom_contact_way');
    only('page', 'mp_code');
    only('path', 'h5');
    if (body.kind === 'wecom_contact_way' && body.userIds === undefined)
      ctx.addIssue({ code: 'custom', path: ['userIds'], params: { code: 'channel_users_required' }, message: 'Name at least one member' });
  });
const updateSchema = z.strictObject({
  name: nameSchema.optional(),
  cost: costSchema.nullable().optional(),
  eventId: eventIdSchema.optional(),
  tags: tagsSchema.optional(),
  welcome: welcomeSchema.optional(),
  offerProductId: offerProductIdSchema.optional(),
});
const listQuerySchema = z.object({ status: z.enum(['active', 'archived', 'all']).default('active') });

/**
 * Channel codes (渠道活码): admins and operators create, edit and archive them; sales reps read
 * them and their stats. The contract: `POST /api/admin/channels` `{name, kind, cost?, eventId?,
 * tags?, welcome?, offerProductId?}` → `{id, scene, url, qrImageUrl}`. The scene `ch:<id>` fits every platform's
 * limit (state 30, mini-program scene 32 = MP_CODE_SCENE_MAX, scene_str 64).
 */
export function createAdminChannelsRouter(deps: AdminChannelsRouterDeps): Router<AdminState> {
  const router = new Router<AdminState>();
  const readers = deps.auth.requireOperator(['admin', 'operator', 'sales']);
  const editors = deps.auth.requireOperator(['admin', 'operator']);

  router.get('/api/admin/channels', readers, async (ctx) => {
    const { status } = parseInput(listQuerySchema, ctx.query);
    ctx.body = { items: await deps.channels.listChannels({ status }) };
  });

  router.get('/api/admin/channels/:id', readers, async (ctx) => {
    const channel = await deps.channels.getChannel(parseChannelId(ctx.params.id));
    if (!channel) throw notFound('No such channel');
    ctx.body = channel;
  });

  router.get('/api/admin/channels/:id/qr.png', readers, async (ctx) => {
    const png = unwrap(await deps.channels.qrPng(parseChannelId(ctx.params.id)));
    ctx.type = 'image/png';
    ctx.set('Content-Disposition', `attachment; filename="channel-${ctx.params.id}.png"`);
    ctx.set('Cache-Control', 'private, max-age=300');
    ctx.body = png;
  });

  router.post('/api/admin/channels', editors, async (ctx) => {
    const body = await parseJsonBody(ctx, createSchema);
    ctx.body = unwrap(await deps.channels.createChannel({ ...body, actor: actorOf(ctx) }));
    ctx.status = 201;
  });

  router.put('/api/admin/channels/:id', editors, async (ctx) => {
    const id = parseChannelId(ctx.params.id);
    const body = await parseJsonBody(ctx, updateSchema);
    ctx.body = unwrap(await deps.channels.updateChannel({ id, ...body, actor: actorOf(ctx) }));
  });

  router.post('/api/admin/channels/:id/archive', editors, async (ctx) => {
    const archived = unwrap(await deps.channels.archiveChannel({ id: parseChannelId(ctx.params.id), actor: actorOf(ctx) }));
    ctx.body = { archived: true, id: archived.id };
  });

  return router;
}

function unwrap<T>(result: ChannelResult<T>): T {
  if (result.ok) return result.value;
  switch (result.reason) {
    case 'not_found':
      throw notFound('No such channel');
    case 'duplicate_name':
      throw conflict('A channel with this name already exists', [{ path: 'name', code: 'name_taken', message: 'Name taken' }]);
    case 'invalid':
      throw invalidFields(result.issues);
    case 'platform':
      // The platform refused or did not answer: its errcode is the operator's clue (41030: no such page).
      throw new HttpError(502, 'platform_refused', result.message, { errcode: result.errcode });
  }
}

function parseChannelId(raw: string | undefined): number {
  const parsed = idParamSchema.safeParse(raw);
  if (!parsed.success) throw notFound('No such channel');
  return parsed.data;
}
