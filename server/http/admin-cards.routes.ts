import Router from '@koa/router';
import { z } from 'zod';
import { CARD_RELATIONS } from '../../entities/card-visitor.entity';
import type { CardVisitorsService } from '../modules/cards/card-visitors.service';
import { MAX_CARD_MATERIALS, mayAccessCard, type CardResult, type CardsService } from '../modules/cards/cards.service';
import { actorOf, type AdminContext, type AdminState, type AuthMiddleware } from './auth.middleware';
import { forbidden, HttpError } from './http-error';
import { idParamSchema, invalidFields, parseInput, parseJsonBody, typedPhoneSchema } from './validate-input';

export interface AdminCardsRouterDeps {
  cards: CardsService;
  visitors: Pick<CardVisitorsService, 'listVisitors'>;
  auth: AuthMiddleware;
}

/** A text field of the card: trimmed, '' or null clears it. */
const textSchema = (max: number) =>
  z
    .string()
    .trim()
    .max(max)
    .nullable()
    .optional()
    .transform((text) => (text === undefined || text === null || text === '' ? null : text));
/** Shown by the mini-program's <image>: an absolute http(s) URL. */
const avatarSchema = z
  .union([z.literal(''), z.url({ protocol: /^https?$/ }).max(1024)])
  .nullable()
  .optional()
  .transform((url) => (url === undefined || url === null || url === '' ? null : url));
const cardSchema = z.strictObject({
  title: textSchema(64),
  company: textSchema(128),
  phone: typedPhoneSchema.optional().transform((phone) => phone ?? null),
  avatarUrl: avatarSchema,
  intro: textSchema(1000),
  // The order is the card's; the same material twice is kept once.
  materialIds: z
    .array(z.number().int().positive().max(2_147_483_647))
    .max(MAX_CARD_MATERIALS)
    .optional()
    .transform((ids) => [...new Set(ids ?? [])]),
});
const visitorsQuerySchema = z.object({
  relation: z.enum(CARD_RELATIONS).optional(),
  cursor: z
    .string()
    .regex(/^\d{1,15}\.\d{1,10}$/)
    .optional(),
  limit: z.coerce.number().int().min(1).max(100).default(50),
});

/**
 * The reps' business cards on the admin page (issue 17 §1). Admins and marketers (`operator`) read
 * everyone's cards and visitors; a sales rep only their own. Only an admin edits another
 * operator's card. Every save is audited (`card.update`).
 */
export function createAdminCardsRouter(deps: AdminCardsRouterDeps): Router<AdminState> {
  const router = new Router<AdminState>();
  const signedIn = deps.auth.requireOperator();

  router.get('/api/admin/cards', signedIn, async (ctx) => {
    const me = ctx.state.operator;
    ctx.body = { items: await deps.cards.listCards({ onlyOperatorId: me.role === 'sales' ? me.id : null }) };
  });

  router.get('/api/admin/cards/:operatorId', signedIn, async (ctx) => {
    const card = await deps.cards.getCard(allowedOperatorId(ctx, 'read'));
    if (!card) throw cardNotFound();
    ctx.body = card;
  });

  router.put('/api/admin/cards/:operatorId', signedIn, async (ctx) => {
    const operatorId = allowedOperatorId(ctx, 'write');
    const body = await parseJsonBody(ctx, cardSchema);
    ctx.body = unwrap(await deps.cards.updateCard({ operatorId, ...body, actor: actorOf(ctx) }));
  });

  router.get('/api/admin/cards/:operatorId/visitors', signedIn, async (ctx) => {
    const operatorId = allowedOperatorId(ctx, 'read');
    const query = parseInput(visitorsQuerySchema, ctx.query);
    ctx.body = await deps.visitors.listVisitors({
      operatorId,
      relation: query.relation ?? null,
      cursor: query.cursor ?? null,
      limit: query.limit,
    });
  });

  return router;
}

/** The path's operator, when the signed-in operator may read or write their card (else 403). */
function allowedOperatorId(ctx: AdminContext, mode: 'read' | 'write'): number {
  const parsed = idParamSchema.safeParse(ctx.params.operatorId);
  if (!parsed.success) throw cardNotFound();
  if (!mayAccessCard(ctx.state.operator, parsed.data, mode)) throw forbidden('Only an admin may see or edit another rep’s card');
  return parsed.data;
}

function unwrap<T>(result: CardResult<T>): T {
  if (result.ok) return result.value;
  if (result.reason === 'not_found') throw cardNotFound();
  throw invalidFields(result.issues);
}

function cardNotFound(): HttpError {
  return new HttpError(404, 'card_not_found', 'No card for this operator');
}
