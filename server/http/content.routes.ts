import Router, { type RouterContext } from '@koa/router';
import { randomBytes } from 'node:crypto';
import type { Context, Middleware } from 'koa';
import { z } from 'zod';
import { channelIdFromQuery } from '../modules/channels/channel-scene';
import { parseRange } from '../modules/content/byte-range';
import { MAX_READ_SECONDS, renderContentPage } from '../modules/content/content-page';
import type { ContentService } from '../modules/content/content.service';
import { readRawBody } from './body';
import { badRequest, notFound } from './http-error';
import { parseInput } from './validate-input';

/**
 * Who is reading: the hook the page asks, given the request, for the visitor's contact id, or
 * null for an anonymous visitor (counted by the fw_vid cookie only). compose.ts passes the web
 * OAuth visitor's (visitorContactId, set by `beforePage`); tests may pass their own.
 */
export type VisitorIdentifier = (ctx: Context) => Promise<number | null>;

export interface ContentRouterDeps {
  content: ContentService;
  identifyVisitor: VisitorIdentifier;
  /** Runs before the page (never the file or the beacon): the web OAuth visitor middleware. */
  beforePage?: Middleware;
}

/** The anonymous visitor's cookie: random, unsigned, carries no identity; it only tells repeat views apart. */
export const VISITOR_COOKIE = 'fw_vid';
const VISITOR_COOKIE_MAX_AGE_MS = 365 * 24 * 60 * 60 * 1000;
const BEACON_MAX_BYTES = 1024;

const beaconSchema = z.strictObject({
  view: z.string().regex(/^[A-Za-z0-9_-]{1,32}$/),
  seconds: z
    .number()
    .finite()
    .min(0)
    .max(MAX_READ_SECONDS * 10),
});

/**
 * The tracked links (`/c/<code>?ch=<channelId>`): the material's page, its file with range
 * requests, and the page's read-time beacon. Public: the code is the only key.
 */
export function createContentRouter(deps: ContentRouterDeps): Router {
  const router = new Router();

  const beforePage: Middleware = deps.beforePage ?? ((_ctx, next) => next());
  router.get('/c/:code', beforePage, async (ctx) => {
    const code = String(ctx.params.code ?? '');
    // A HEAD (a link checker, a preview fetch) is no reader: answered, never counted.
    if (ctx.method === 'HEAD') {
      if (!(await deps.content.isLive(code))) throw notFound('No such link');
      ctx.set('Cache-Control', 'no-store');
      ctx.type = 'text/html; charset=utf-8';
      ctx.status = 200;
      return;
    }
    let visitorId = ctx.cookies.get(VISITOR_COOKIE) ?? null;
    if (visitorId === null || !/^[A-Za-z0-9_-]{22}$/.test(visitorId)) visitorId = randomBytes(16).toString('base64url');
    const contactId = await deps.identifyVisitor(ctx);
    const viewed = await deps.content.recordView({
      code,
      channelId: channelIdFromQuery(ctx.query.ch),
      visitorId,
      contactId,
      eventId: positiveIdFromQuery(ctx.query.ev),
      journeyId: positiveIdFromQuery(ctx.query.jr),
    });
    if (!viewed) throw notFound('No such link');
    ctx.cookies.set(VISITOR_COOKIE, visitorId, {
      httpOnly: true,
      sameSite: 'lax',
      secure: ctx.secure,
      path: '/c/',
      maxAge: VISITOR_COOKIE_MAX_AGE_MS,
      overwrite: true,
    });
    const m = viewed.material;
    const nonce = randomBytes(16).toString('base64');
    // Every answer is a new view: never from a cache (WeChat's browser caches aggressively).
    ctx.set('Cache-Control', 'no-store');
    ctx.set(
      'Content-Security-Policy',
      `default-src 'none'; img-src 'self' https: data:; media-src 'self'; style-src 'nonce-${nonce}'; script-src 'nonce-${nonce}'; ` +
        "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    );
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.set('Referrer-Policy', 'same-origin');
    ctx.type = 'text/html; charset=utf-8';
    ctx.body = renderContentPage({
      kind: m.kind,
      title: m.title,
      summary: m.summary,
      body: m.body,
      fileUrl: m.file_key ? `/c/${m.code}/file` : null,
      fileType: m.file_type,
      fileSize: m.file_size === null ? null : Number(m.file_size),
      beaconUrl: `/c/${m.code}/beacon`,
      viewKey: viewed.viewKey,
      nonce,
    });
  });

  /**
   * The file, streamed from the store, with single byte ranges (a video player seeks with them):
   * 206 with Content-Range, 416 for a range past the end, ETag (the SHA-256) and Last-Modified,
   * 304 for a matching If-None-Match, and If-Range honoured.
   */
  const serveFile = async (ctx: RouterContext): Promise<void> => {
    const file = await deps.content.findServedFile(String(ctx.params.code ?? ''));
    if (!file) throw notFound('No such file');
    const etag = `"${file.sha256}"`;
    ctx.set('ETag', etag);
    ctx.set('Last-Modified', file.uploadedAt.toUTCString());
    ctx.set('Accept-Ranges', 'bytes');
    ctx.set('Cache-Control', 'public, max-age=300');
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.set('Content-Security-Policy', "default-src 'none'; sandbox");
    if (etagMatches(ctx.get('if-none-match'), etag)) {
      ctx.status = 304;
      return;
    }
    // If-Range: the range only applies to the version the client already has part of.
    const ifRange = ctx.get('if-range');
    const rangeHeader = ifRange !== '' && ifRange !== etag && ifRange !== file.uploadedAt.toUTCString() ? undefined : ctx.get('range');
    const range = parseRange(rangeHeader, file.size);
    ctx.type = file.type;
    if (range.kind === 'unsatisfiable') {
      ctx.set('Content-Range', `bytes */${file.size}`);
      ctx.status = 416;
      ctx.body = { error: { code: 'range_not_satisfiable', message: `The file has ${file.size} bytes` } };
      return;
    }
    // HEAD: the status and length alone (no stream is opened: Koa would never read it).
    const head = ctx.method === 'HEAD';
    if (range.kind === 'partial') {
      ctx.status = 206;
      ctx.set('Content-Range', `bytes ${range.start}-${range.end}/${file.size}`);
      ctx.length = range.end - range.start + 1;
      if (!head) ctx.body = deps.content.readFile(file.key, range);
    } else {
      ctx.status = 200;
      ctx.length = file.size;
      if (!head) ctx.body = deps.content.readFile(file.key);
    }
  };
  // @koa/router answers HEAD with the GET route.
  router.get('/c/:code/file', serveFile);

  /**
   * The page's read time. navigator.sendBeacon posts a string as text/plain, so any type is
   * read as JSON; 204 when kept, 404 for a view this link never served, 400 for a malformed body.
   */
  router.post('/c/:code/beacon', async (ctx) => {
    const raw = await readRawBody(ctx, BEACON_MAX_BYTES);
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw.toString('utf8'));
    } catch {
      throw badRequest('The beacon is not JSON');
    }
    const beacon = parseInput(beaconSchema, parsed);
    const kept = await deps.content.recordReadTime({ code: String(ctx.params.code ?? ''), viewKey: beacon.view, seconds: beacon.seconds });
    if (kept === 'not_found') throw notFound('No such view');
    ctx.status = 204;
  });

  return router;
}

/** `?ev=` and `?jr=`: an event or journey id as the cloud exhibition's and journeys' links carry it, or null (malformed ones are ignored like `ch`). */
function positiveIdFromQuery(value: unknown): number | null {
  return typeof value === 'string' && /^[1-9]\d{0,9}$/.test(value) && Number(value) <= 2_147_483_647 ? Number(value) : null;
}

/** If-None-Match: `*` or a list of tags, weak ones compared weakly (RFC 9110 §13.1.2). */
function etagMatches(header: string, etag: string): boolean {
  if (header === '') return false;
  if (header.trim() === '*') return true;
  return header.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag);
}
