import type { Context } from 'koa';
import { HttpError } from './http-error';

/**
 * Bodies are read per route, never by a global parser: callbacks need the raw bytes (XML, or
 * Pay's exact body for its signature), and a global JSON parser eats them (co-wechat #27).
 */
export async function readRawBody(ctx: Context, limitBytes: number): Promise<Buffer> {
  const declared = Number(ctx.get('content-length') || NaN);
  if (Number.isFinite(declared) && declared > limitBytes) throw tooLarge(limitBytes);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limitBytes) {
      ctx.req.destroy();
      throw tooLarge(limitBytes);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size);
}

/** Parses a JSON request body (100 KiB at most); a bad body is a 400 naming the problem. */
export async function readJsonBody(ctx: Context, limitBytes = 100 * 1024): Promise<unknown> {
  if (!ctx.is('application/json')) throw new HttpError(415, 'unsupported_media_type', 'Send the body as application/json');
  const raw = await readRawBody(ctx, limitBytes);
  try {
    return JSON.parse(raw.toString('utf8')) as unknown;
  } catch {
    throw new HttpError(400, 'bad_json', 'The body is not valid JSON');
  }
}

function tooLarge(limitBytes: number): HttpError {
  return new HttpError(413, 'payload_too_large', `The body is larger than ${limitBytes} bytes`);
}
