import { Transform, type Readable } from 'node:stream';
import type { Context } from 'koa';
import { HttpError } from './http-error';

/** How long an over-limit request may keep sending (discarded) after its 413 before its socket goes. */
const DISCARD_GRACE_MS = 2_000;

/**
 * Bodies are read per route, never by a global parser: callbacks need the raw bytes (XML, or
 * Pay's exact body for its signature), and a global JSON parser eats them (co-wechat #27).
 * A body over the limit (declared, or counted as a chunked body arrives) is a 413; see refuseRest.
 */
export async function readRawBody(ctx: Context, limitBytes: number): Promise<Buffer> {
  const declared = Number(ctx.get('content-length') || NaN);
  if (Number.isFinite(declared) && declared > limitBytes) {
    refuseRest(ctx);
    throw tooLarge(limitBytes);
  }
  const req = ctx.req;
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const detach = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
    };
    function onData(chunk: Buffer): void {
      size += chunk.length;
      if (size > limitBytes) {
        // Stop reading here: no more bytes of this body are buffered or parsed.
        detach();
        req.pause();
        refuseRest(ctx);
        reject(tooLarge(limitBytes));
        return;
      }
      chunks.push(chunk);
    }
    function onEnd(): void {
      detach();
      resolve(Buffer.concat(chunks, size));
    }
    function onError(error: Error): void {
      detach();
      reject(error);
    }
    /** The client went away mid-body. */
    function onClose(): void {
      detach();
      reject(new HttpError(400, 'bad_request', 'The request body ended early'));
    }
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}

/**
 * The request body as a stream, for uploads read as they arrive (a lead CSV): never buffered
 * whole. Over the limit (declared, or counted as it arrives) the stream fails with the 413, and
 * the rest of the body is discarded as readRawBody does.
 */
export function streamBody(ctx: Context, limitBytes: number): Readable {
  const declared = Number(ctx.get('content-length') || NaN);
  if (Number.isFinite(declared) && declared > limitBytes) {
    refuseRest(ctx);
    throw tooLarge(limitBytes);
  }
  let size = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      size += chunk.length;
      if (size > limitBytes) {
        ctx.req.unpipe(counter);
        ctx.req.pause();
        refuseRest(ctx);
        done(tooLarge(limitBytes));
        return;
      }
      done(null, chunk);
    },
  });
  ctx.req.on('aborted', () => counter.destroy(new HttpError(400, 'bad_request', 'The request body ended early')));
  return ctx.req.pipe(counter);
}

/**
 * The rest of an over-limit body is dropped only after the 413 is on the wire. Destroying the
 * request at once (as `for await` + destroy did) resets the connection with unread bytes in
 * the kernel, and the client saw ECONNRESET instead of the answer. So: `Connection: close`, and
 * once the response is written, discard what still arrives, for a short grace at most.
 */
export function refuseRest(ctx: Context): void {
  ctx.set('Connection', 'close');
  const req = ctx.req;
  ctx.res.once('finish', () => {
    if (req.complete) return;
    const timer = setTimeout(() => req.destroy(), DISCARD_GRACE_MS);
    timer.unref();
    req.once('close', () => clearTimeout(timer));
    req.on('data', () => undefined);
    req.resume();
  });
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
