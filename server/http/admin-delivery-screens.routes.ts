import Router from '@koa/router';
import { z } from 'zod';
import { OUTBOX_CHANNELS } from '../../entities/outbox-message.entity';
import type { BroadcastListItem } from '../modules/broadcasts/broadcasts-list';
import type { DeliverySettingsService } from '../modules/delivery-settings/delivery-settings.service';
import type { TemplateLibraryService } from '../modules/template-library/template-library.service';
import { actorOf, type AdminState, type AuthMiddleware } from './auth.middleware';
import { parseJsonBody } from './validate-input';

export interface AdminDeliveryScreensRouterDeps {
  /** The newest broadcasts with their counts (server/modules/broadcasts/broadcasts-list.ts). */
  listBroadcasts: () => Promise<BroadcastListItem[]>;
  templateLibrary: TemplateLibraryService;
  deliverySettings: DeliverySettingsService;
  auth: AuthMiddleware;
}

const timeOfDay = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'HH:MM');
const capSchema = z
  .strictObject({
    count: z.number().int().min(1).max(1_000),
    hours: z
      .number()
      .int()
      .min(1)
      .max(24 * 90),
  })
  .nullable();
const settingsSchema = z.strictObject({
  quietHours: z
    .strictObject({ start: timeOfDay, end: timeOfDay })
    // A zod `custom` issue on `end` (a code already in error-codes.ts); the page says its own sentence while the operator chooses.
    .refine((q) => q.start !== q.end, { path: ['end'], message: 'start and end are the same' })
    .nullable(),
  frequencyCaps: z.strictObject(
    Object.fromEntries(OUTBOX_CHANNELS.map((c) => [c, capSchema])) as Record<(typeof OUTBOX_CHANNELS)[number], typeof capSchema>,
  ),
});
const checkSchema = z.strictObject({
  templateId: z.string().trim().min(1).max(128),
  data: z.record(z.string().min(1).max(64), z.string().max(1000)),
  url: z.string().max(1024).nullable().optional(),
});

/**
 * What the 群发, 模板库 and 推送设置 screens read beside the broadcasts and journeys APIs: the list of
 * broadcasts, the template library synced from WeChat with its field check, and the delivery
 * settings (quiet hours, frequency caps per channel). Admins and operators; a save is audited.
 */
export function createAdminDeliveryScreensRouter(deps: AdminDeliveryScreensRouterDeps): Router<AdminState> {
  const router = new Router<AdminState>();
  const editors = deps.auth.requireOperator(['admin', 'operator']);

  router.get('/api/admin/broadcasts', editors, async (ctx) => {
    ctx.body = { items: await deps.listBroadcasts() };
  });
  router.get('/api/admin/template-library', editors, async (ctx) => {
    const refresh = ctx.query.refresh === '1';
    ctx.body = { enabled: deps.templateLibrary.enabled, ...(await deps.templateLibrary.listTemplates({ refresh })) };
  });
  // The operator's draft against the platform's field rules (the same check the broadcast API applies on create).
  router.post('/api/admin/template-library/check', editors, async (ctx) => {
    const body = await parseJsonBody(ctx, checkSchema);
    ctx.body = { violations: deps.templateLibrary.checkDraft(body) };
  });
  router.get('/api/admin/delivery-settings', editors, async (ctx) => {
    ctx.body = await deps.deliverySettings.readSettings();
  });
  router.put('/api/admin/delivery-settings', editors, async (ctx) => {
    const settings = await parseJsonBody(ctx, settingsSchema);
    ctx.body = await deps.deliverySettings.saveSettings({ settings, actor: actorOf(ctx) });
  });
  return router;
}
