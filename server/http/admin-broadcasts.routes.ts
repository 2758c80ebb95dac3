import Router from '@koa/router';
import { z } from 'zod';
import {
  BroadcastNotFoundError,
  BroadcastStateError,
  type BroadcastProgress,
  type BroadcastsService,
} from '../modules/broadcasts/broadcasts.service';
import { checkTemplateMessage } from '../wechat/template-message';
import { actorOf, type AdminState, type AuthMiddleware } from './auth.middleware';
import { conflict, notFound } from './http-error';
import { idParamSchema, parseJsonBody } from './validate-input';

export interface AdminBroadcastsRouterDeps {
  broadcasts: BroadcastsService;
  auth: AuthMiddleware;
}

/**
 * A template message as an operator writes it. The platform's rules (server/wechat/template-message.ts)
 * are checked here too, so a broadcast that could not be sent is refused before it is saved; each
 * broken rule is a `custom` issue on its field with `params.rule` (and `params.max`).
 */
const templateMessageSchema = z
  .strictObject({
    channel: z.literal('oa_template'),
    templateId: z.string().trim().min(1).max(128),
    data: z.record(z.string().min(1).max(64), z.string().max(1000)),
    url: z.url().max(1024).optional(),
    miniprogram: z.strictObject({ appid: z.string().min(1).max(64), pagepath: z.string().max(512).optional() }).optional(),
  })
  .superRefine((message, ctx) => {
    for (const violation of checkTemplateMessage(message)) {
      const path =
        violation.field === 'url' || violation.field === 'template_id'
          ? [violation.field === 'url' ? 'url' : 'templateId']
          : ['data', violation.field];
      ctx.addIssue({
        code: 'custom',
        path,
        message: `breaks the template message rule ${violation.code}${violation.max === undefined ? '' : ` (at most ${violation.max} characters)`}`,
        params: { rule: violation.code, ...(violation.max === undefined ? {} : { max: violation.max }) },
      });
    }
  });

const createSchema = z.strictObject({
  name: z.string().trim().min(1).max(100),
  segmentId: z.number().int().positive().max(2_147_483_647).nullable(),
  message: templateMessageSchema,
  sendAt: z.iso
    .datetime({ offset: true })
    .transform((text) => new Date(text))
    .optional(),
});

/** Broadcasts (DESIGN's "Journeys and delivery" contract): admins and operators, every change audited. */
export function createAdminBroadcastsRouter(deps: AdminBroadcastsRouterDeps): Router<AdminState> {
  const router = new Router<AdminState>();
  const operators = deps.auth.requireOperator(['admin', 'operator']);

  router.post('/api/admin/broadcasts', operators, async (ctx) => {
    const body = await parseJsonBody(ctx, createSchema);
    const { message } = body;
    const payload: Record<string, unknown> = {
      template_id: message.templateId,
      data: Object.fromEntries(Object.entries(message.data).map(([k, value]) => [k, { value }])),
      ...(message.url ? { url: message.url } : {}),
      ...(message.miniprogram ? { miniprogram: message.miniprogram } : {}),
    };
    ctx.status = 201;
    ctx.body = await deps.broadcasts.create({
      name: body.name,
      segmentId: body.segmentId,
      message: { channel: message.channel, payload },
      sendAt: body.sendAt,
      actor: actorOf(ctx),
    });
  });

  router.get('/api/admin/broadcasts/:id', operators, async (ctx) => {
    const id = parseId(ctx.params.id);
    ctx.body = await answer(() => deps.broadcasts.progress(id));
  });

  for (const action of ['pause', 'resume', 'cancel'] as const) {
    router.post(`/api/admin/broadcasts/:id/${action}`, operators, async (ctx) => {
      const id = parseId(ctx.params.id);
      ctx.body = await answer(() => deps.broadcasts[action](id, actorOf(ctx)));
    });
  }

  return router;
}

function parseId(value: string | undefined): number {
  const id = idParamSchema.safeParse(value);
  if (!id.success) throw notFound('No such broadcast');
  return id.data;
}

async function answer(work: () => Promise<BroadcastProgress>): Promise<BroadcastProgress> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof BroadcastNotFoundError) throw notFound('No such broadcast');
    if (error instanceof BroadcastStateError)
      throw conflict(`The broadcast is ${error.status}`, [{ path: 'status', code: 'custom', params: { status: error.status } }]);
    throw error;
  }
}
