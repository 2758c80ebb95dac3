import Router from '@koa/router';
import { z } from 'zod';
import { CSV_LOCALES } from '../modules/contacts/contacts-csv';
import { formatEventReportCsv, type EventReportService } from '../modules/exhibitions/event-report.service';
import type { AuditService } from '../modules/audit/audit.service';
import type { AdminState, AuthMiddleware } from './auth.middleware';
import { HttpError } from './http-error';
import { idParamSchema, parseInput } from './validate-input';

export interface AdminEventReportRouterDeps {
  reports: EventReportService;
  audit: AuditService;
  auth: AuthMiddleware;
}

const csvQuery = z.strictObject({ locale: z.enum(CSV_LOCALES).default('zh-CN') });

/** The event report (issue 15 §6): marketers read it; its CSV export is audited like the contacts'. */
export function createAdminEventReportRouter(deps: AdminEventReportRouterDeps): Router<AdminState> {
  const router = new Router<AdminState>();
  const marketers = deps.auth.requireOperator(['admin', 'operator']);

  router.get('/api/admin/events/:eventId/report', marketers, async (ctx) => {
    ctx.body = await reportOf(deps, ctx.params.eventId);
  });

  router.get('/api/admin/events/:eventId/report.csv', marketers, async (ctx) => {
    const { locale } = parseInput(csvQuery, ctx.query);
    const report = await reportOf(deps, ctx.params.eventId);
    await deps.audit.record({
      operatorId: ctx.state.operator.id,
      ip: ctx.ip,
      action: 'event.report_export',
      targetType: 'event',
      targetId: report.eventId,
      detail: { locale },
    });
    ctx.type = 'text/csv; charset=utf-8';
    ctx.attachment(`event-${report.eventId}-report.csv`);
    ctx.body = formatEventReportCsv(report, locale);
  });

  return router;
}

async function reportOf(deps: AdminEventReportRouterDeps, raw: string | undefined) {
  const id = idParamSchema.safeParse(raw);
  const report = id.success ? await deps.reports.report(id.data) : null;
  if (!report) throw new HttpError(404, 'event_not_found', 'No such event');
  return report;
}
