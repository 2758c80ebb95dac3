import { z } from 'zod';
import type { Context } from 'koa';
import { readJsonBody } from './body';
import { badRequest } from './http-error';

export interface InputIssue {
  path: string;
  message: string;
}

/** Validates untrusted input; a mismatch is a 400 `bad_request` whose details name each field path. */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues: InputIssue[] = result.error.issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message }));
  const fields = [...new Set(issues.map((issue) => issue.path || '(body)'))].join(', ');
  throw badRequest(`Invalid input: ${fields}`, issues);
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
