import Router from '@koa/router';
import { z } from 'zod';
import { CsvFileError } from '../modules/imports/lead-csv';
import { ImportNotFoundError, parseTagName, type ImportsService } from '../modules/imports/imports.service';
import { actorOf, type AdminState, type AuthMiddleware } from './auth.middleware';
import { HttpError, notFound } from './http-error';
import { streamBody } from './body';
import { idParamSchema, invalidFields, parseInput } from './validate-input';

export interface AdminImportsRouterDeps {
  imports: ImportsService;
  auth: AuthMiddleware;
  /** IMPORT_MAX_BYTES: a larger upload is a 413. */
  maxBytes: number;
}

/** A tag as `group:name` (`展会:2026上海工业展`) or a bare name (group 导入); 64 characters each side at most. */
const tagSchema = z
  .string()
  .trim()
  .min(1)
  .max(129)
  .refine((text) => {
    const ref = parseTagName(text);
    return ref.group !== '' && ref.name !== '' && [...ref.group].length <= 64 && [...ref.name].length <= 64;
  }, 'group:name, each 1-64 characters');

const uploadQuerySchema = z.object({
  /** Repeated (`?tag=a&tag=b`) or one. */
  tag: z
    .union([tagSchema, z.array(tagSchema).max(10)])
    .optional()
    .transform((value) => (value === undefined ? [] : Array.isArray(value) ? value : [value])),
  eventId: z.coerce.number().int().positive().optional(),
  overwrite: z
    .enum(['true', 'false', '1', '0'])
    .optional()
    .transform((value) => value === 'true' || value === '1'),
  fileName: z.string().trim().max(255).optional(),
});

/**
 * Lead imports (导入线索): admins and operators upload, everyone with admin access but sales reps
 * reads. The upload is the CSV file itself as the body (`text/csv`, read as a stream, never
 * buffered whole; a browser sends the chosen file as it is), options in the query:
 * `POST /api/admin/imports?tag=展会:2026上海工业展&eventId=7&overwrite=false&fileName=leads.csv`
 * → 201 with the report. A file that cannot be read at all is a 400 with its code
 * (`bad_encoding`, `no_phone_column`, `empty_file`, `bad_csv`); over IMPORT_MAX_BYTES a 413.
 */
export function createAdminImportsRouter(deps: AdminImportsRouterDeps): Router<AdminState> {
  const router = new Router<AdminState>();
  const editors = deps.auth.requireOperator(['admin', 'operator']);

  router.post('/api/admin/imports', editors, async (ctx) => {
    const query = parseInput(uploadQuerySchema, ctx.query);
    if (!ctx.is('text/csv', 'text/plain', 'application/octet-stream', 'application/vnd.ms-excel'))
      throw new HttpError(415, 'unsupported_media_type', 'Send the CSV file itself as the body (text/csv)');
    const tags = query.tag.map(parseTagName);
    const tagIssues = await deps.imports.checkTagNames(tags);
    if (tagIssues.length > 0) throw invalidFields(tagIssues);
    try {
      ctx.body = await deps.imports.importLeads({
        input: streamBody(ctx, deps.maxBytes),
        fileName: query.fileName ?? null,
        tags,
        eventId: query.eventId ?? null,
        overwrite: query.overwrite,
        actor: actorOf(ctx),
      });
    } catch (error) {
      if (error instanceof CsvFileError) throw new HttpError(400, error.code, error.message);
      throw error;
    }
    ctx.status = 201;
  });

  /** A staged import whose apply failed (it says why in `error`) is applied again; a done one is answered as it is. */
  router.post('/api/admin/imports/:id/apply', editors, async (ctx) => {
    const id = parseImportId(ctx.params.id);
    try {
      ctx.body = await deps.imports.applyImport(id, actorOf(ctx));
    } catch (error) {
      if (error instanceof ImportNotFoundError) throw notFound('No such import');
      throw error;
    }
  });

  router.get('/api/admin/imports/:id', editors, async (ctx) => {
    const report = await deps.imports.getImport(parseImportId(ctx.params.id));
    if (!report) throw notFound('No such import');
    ctx.body = report;
  });

  router.get('/api/admin/imports/:id/refused.csv', editors, async (ctx) => {
    const id = parseImportId(ctx.params.id);
    const csv = await deps.imports.refusedCsv(id);
    if (csv === null) throw notFound('No such import');
    ctx.type = 'text/csv; charset=utf-8';
    ctx.set('Content-Disposition', `attachment; filename="import-${id}-refused.csv"`);
    ctx.body = csv;
  });

  return router;
}

function parseImportId(raw: string | undefined): number {
  const parsed = idParamSchema.safeParse(raw);
  if (!parsed.success) throw notFound('No such import');
  return parsed.data;
}
