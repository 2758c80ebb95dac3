import Router from '@koa/router';
import { z } from 'zod';
import { CARD_ACTIONS } from '../../entities/card-visitor.entity';
import type { CardVisitorsService } from '../modules/cards/card-visitors.service';
import type { CardsService } from '../modules/cards/cards.service';
import type { MpSessionsService } from '../modules/miniprogram/mp-sessions.service';
import { HttpError } from './http-error';
import { mpSessionMiddleware, unwrapMp, type MpState } from './mp.routes';
import { idParamSchema, parseInput, parseJsonBody } from './validate-input';

export interface MpCardsRouterDeps {
  sessions: MpSessionsService;
  cards: Pick<CardsService, 'companyCards'>;
  visitors: Pick<CardVisitorsService, 'openCard' | 'addViewSeconds' | 'recordAction'>;
}

/**
 * A share token as sent: any string, checked against the card's tokens by the service. A garbled
 * one counts as a direct view, never a 400, since it came from a forwarded message's path.
 */
const shareTokenSchema = z.string().max(256).optional();
const openQuerySchema = z.object({ st: shareTokenSchema });
// `st` is taken on the reports (the page sends what it arrived with) but attributes nothing more:
// the view was attributed when the card was opened, and a visitor keeps the share they first came by.
const viewSchema = z.strictObject({ seconds: z.number().min(0).max(86_400), st: shareTokenSchema });
const actionSchema = z.strictObject({ action: z.enum(CARD_ACTIONS), st: shareTokenSchema });
const companyQuerySchema = z.object({ company: z.string().trim().min(1).max(128) });

/**
 * The business card in the mini-program (issue 17 §1), behind the mini-program's session and rate
 * limit (mp.routes.ts). Opening a card is a view; forwarding carries the viewer's own `shareToken`.
 */
export function createMpCardsRouter(deps: MpCardsRouterDeps): Router<MpState> {
  const router = new Router<MpState>();
  const requireSession = mpSessionMiddleware(deps.sessions);

  router.get('/api/mp/cards', requireSession, async (ctx) => {
    const { company } = parseInput(companyQuerySchema, ctx.query);
    ctx.body = { cards: await deps.cards.companyCards(company) };
  });

  router.get('/api/mp/cards/:operatorId', requireSession, async (ctx) => {
    const operatorId = operatorIdOf(ctx.params.operatorId);
    const { st } = parseInput(openQuerySchema, ctx.query);
    ctx.body = unwrapMp(await deps.visitors.openCard({ caller: ctx.state.caller, operatorId, st: st ?? null }));
  });

  router.post('/api/mp/cards/:operatorId/views', requireSession, async (ctx) => {
    const operatorId = operatorIdOf(ctx.params.operatorId);
    const body = await parseJsonBody(ctx, viewSchema);
    unwrapMp(await deps.visitors.addViewSeconds({ caller: ctx.state.caller, operatorId, seconds: body.seconds }));
    ctx.status = 204;
  });

  router.post('/api/mp/cards/:operatorId/actions', requireSession, async (ctx) => {
    const operatorId = operatorIdOf(ctx.params.operatorId);
    const body = await parseJsonBody(ctx, actionSchema);
    ctx.body = unwrapMp(await deps.visitors.recordAction({ caller: ctx.state.caller, operatorId, action: body.action }));
  });

  return router;
}

function operatorIdOf(raw: string | undefined): number {
  const parsed = idParamSchema.safeParse(raw);
  if (!parsed.success) throw new HttpError(404, 'card_not_found', 'No such card');
  return parsed.data;
}
