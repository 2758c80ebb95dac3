import Router from '@koa/router';
import { z } from 'zod';
import { OPERATOR_ROLES } from '../../entities/operator.entity';
import type { AuditService } from '../modules/audit/audit.service';
import type { OperatorsService } from '../modules/operators/operators.service';
import { actorOf, type AdminState, type AuthMiddleware } from './auth.middleware';
import { conflict, notFound } from './http-error';
import { idParamSchema, parseInput, parseJsonBody } from './validate-input';
import { normalizeUsername, usernameProblemOf, USERNAME_MAX_CHARS } from '../../web/shared/field-rules';

export interface AdminOperatorsRouterDeps {
  operators: OperatorsService;
  audit: AuditService;
  auth: AuthMiddleware;
}

const passwordSchema = z.string().min(8).max(1024);
/** Any script's letters (张三 is a natural username): the rule and its NFKC spelling are in web/shared/field-rules.ts. */
const usernameSchema = z
  .string()
  .max(256)
  .transform(normalizeUsername)
  .superRefine((username, ctx) => {
    const problem = usernameProblemOf(username);
    if (problem)
      ctx.addIssue({
        code: 'custom',
        message: `Username: ${problem.code} (1-${USERNAME_MAX_CHARS} letters or digits of any script, and . _ @ -)`,
        params: { ...problem },
      });
  });
const wecomUserIdSchema = z.string().trim().min(1).max(64).nullable();
const displayNameSchema = z.string().trim().min(1).max(64).nullable();

const createOperatorSchema = z.strictObject({
  username: usernameSchema,
  password: passwordSchema,
  role: z.enum(OPERATOR_ROLES),
  displayName: displayNameSchema.optional(),
  wecomUserId: wecomUserIdSchema.optional(),
});
const updateOperatorSchema = z.strictObject({
  role: z.enum(OPERATOR_ROLES).optional(),
  displayName: displayNameSchema.optional(),
  wecomUserId: wecomUserIdSchema.optional(),
  disabled: z.boolean().optional(),
  password: passwordSchema.optional(),
});
const auditQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  before: z.coerce.number().int().positive().optional(),
  operatorId: idParamSchema.optional(),
  action: z.string().trim().min(1).max(64).optional(),
  from: z.iso
    .datetime({ offset: true })
    .transform((text) => new Date(text))
    .optional(),
  to: z.iso
    .datetime({ offset: true })
    .transform((text) => new Date(text))
    .optional(),
});

/** Operator accounts and the audit log: admins only. */
export function createAdminOperatorsRouter(deps: AdminOperatorsRouterDeps): Router<AdminState> {
  const router = new Router<AdminState>();
  const admins = deps.auth.requireOperator(['admin']);

  router.get('/api/admin/operators', admins, async (ctx) => {
    ctx.body = { items: await deps.operators.listOperators() };
  });

  router.post('/api/admin/operators', admins, async (ctx) => {
    const body = await parseJsonBody(ctx, createOperatorSchema);
    // The admin chose the password: like a reset, its owner replaces it at the first login.
    const result = await deps.operators.createOperator({ ...body, mustChangePassword: true, actor: actorOf(ctx) });
    if (!result.ok) throw conflict('An operator with this username already exists', [{ path: 'username', code: 'username_taken' }]);
    ctx.status = 201;
    ctx.body = result.operator;
  });

  router.patch('/api/admin/operators/:id', admins, async (ctx) => {
    const parsedId = idParamSchema.safeParse(ctx.params.id);
    if (!parsedId.success) throw notFound('No such operator');
    const body = await parseJsonBody(ctx, updateOperatorSchema);
    const result = await deps.operators.updateOperator({ id: parsedId.data, ...body, actor: actorOf(ctx) });
    if (!result.ok && result.reason === 'not_found') throw notFound('No such operator');
    if (!result.ok)
      throw conflict('You cannot change your own role or disable yourself', [
        { path: body.disabled === true ? 'disabled' : 'role', code: 'operator_self_change' },
      ]);
    ctx.body = result.operator;
  });

  router.get('/api/admin/audit-log', admins, async (ctx) => {
    const query = parseInput(auditQuerySchema, ctx.query);
    ctx.body = await deps.audit.list(query);
  });

  return router;
}
