import { z } from 'zod';
import type { Context } from 'koa';
import { normalizeTypedPhone } from '../modules/contacts/contact-notes.service';
import { readJsonBody } from './body';
import { badRequest } from './http-error';

/**
 * One refused field, as the page receives it in `error.details`: the field's path, a stable rule
 * code the page translates (zod's own code such as `too_big`, or a named rule such as
 * `tag_name_oa_bytes` given by a refinement's `params.code`), the numbers the sentence needs, and
 * an English message for scripts and logs.
 */
export interface InputIssue {
  path: string;
  code: string;
  message: string;
  params?: Record<string, string | number>;
}

/** A refinement's issue names its rule this way: `ctx.addIssue({code: 'custom', params: {code: 'score_range'}})`. */
function issueOf(issue: z.core.$ZodIssue): InputIssue {
  const path = issue.path.map(String).join('.');
  const params: Record<string, string | number> = {};
  let code: string = issue.code;
  if (issue.code === 'too_big' || issue.code === 'too_small') {
    const limit = issue.code === 'too_big' ? issue.maximum : issue.minimum;
    params[issue.code === 'too_big' ? 'maximum' : 'minimum'] = Number(limit);
    params.origin = issue.origin;
  }
  if (issue.code === 'custom' && issue.params) {
    for (const [key, value] of Object.entries(issue.params))
      if (typeof value === 'string' || typeof value === 'number') params[key] = value;
    if (typeof issue.params.code === 'string') code = issue.params.code;
    delete params.code;
  }
  return { path, code, message: issue.message, ...(Object.keys(params).length > 0 ? { params } : {}) };
}

/** Validates untrusted input; a mismatch is a 400 `bad_request` whose details name each field path and rule. */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues = result.error.issues.map(issueOf);
  throw invalidFields(issues);
}

/** A 400 naming the refused fields: for rules checked after the schema (in a service, against the database). */
export function invalidFields(issues: InputIssue[]) {
  const fields = [...new Set(issues.map((issue) => issue.path || '(body)'))].join(', ');
  return badRequest(`Invalid input: ${fields}`, issues);
}

/** Reads the JSON body (415/400 from readJsonBody) and validates it. */
export async function parseJsonBody<S extends z.ZodType>(ctx: Context, schema: S): Promise<z.output<S>> {
  return parseInput(schema, await readJsonBody(ctx));
}

/** A positive integer id from the path or query in plain decimal (no `1e3`, no `0x10`), within INT range. */
export const idParamSchema = z
  .string()
  .regex(/^[1-9]\d{0,9}$/, 'Expected a positive integer id')
  .transform(Number)
  .pipe(z.number().max(2_147_483_647));

/**
 * A phone an operator types (a contact's notes, a rep's card): normalised by normalizeTypedPhone;
 * '' or null removes it; anything else is refused as `phone_format`.
 */
export const typedPhoneSchema = z
  .string()
  .max(32)
  .nullable()
  .transform((text, ctx) => {
    if (text === null || text.trim() === '') return null;
    const phone = normalizeTypedPhone(text);
    if (phone === null)
      ctx.addIssue({
        code: 'custom',
        message: 'Expected a mainland mobile number or +<country code><number>',
        params: { code: 'phone_format' },
      });
    return phone ?? z.NEVER;
  });
