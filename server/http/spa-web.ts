import { createReadStream, type Stats } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Context, Middleware, Next } from 'koa';

/**
 * One built single-page app (a Vite build with a base of `prefix`/) served from disk: the admin
 * page (admin-web.ts) and the public mobile pages (mobile-web.ts) are both this, each with its
 * own policy and its own index.html touches.
 */
export interface SpaWebParams {
  /** The built app (dist/web/<app>): index.html and assets/. */
  root: string;
  /** Where it is served, without the trailing slash; the Vite build's base is `${prefix}/`. */
  prefix: string;
  /** The Content-Security-Policy sent with index.html. */
  csp: string;
  /** index.html as sent (the admin page writes its `lang`); as built when not given. */
  renderIndex?: (html: string) => string;
  /** Answered 503 when the app is not built (index.html missing). */
  notBuilt: { code: string; message: string };
  /**
   * Runs before index.html is sent, never for files: a middleware that may answer itself (a
   * redirect, such as WeChat's web OAuth) or call `next` to get the page.
   */
  beforePage?: Middleware;
}

/**
 * The page's policy. Scripts only from this origin and no inline script (Vite emits module
 * files, nothing inline). style-src needs 'unsafe-inline': Element Plus positions popovers,
 * dialogs and loading masks with inline `style` attributes and injects CSS variables at run time,
 * and vue binds `:style`; without it menus and dialogs render unpositioned. Styles cannot run code,
 * so the XSS protection stays with script-src. ECharts draws on canvas (no blob/data workers).
 */
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.ttf': 'font/ttf',
  '.json': 'application/json',
  '.map': 'application/json',
};

/** The encodings the build writes beside each file (web/vite-precompress.mts), in the order preferred. */
const ENCODINGS = [
  { name: 'br', suffix: '.br' },
  { name: 'gzip', suffix: '.gz' },
] as const;
type Encoding = (typeof ENCODINGS)[number]['name'];

/**
 * The encodings a client accepts, by RFC 9110 §12.5.3: a coding is acceptable unless its q is 0;
 * `*` stands for any coding not named; no header at all means identity only (a client that sends
 * nothing may not decode anything).
 */
export function acceptedEncodings(header: string | undefined): Set<Encoding> {
  const accepted = new Set<Encoding>();
  if (!header) return accepted;
  const named = new Map<string, number>();
  for (const part of header.split(',')) {
    const [name, ...params] = part.trim().toLowerCase().split(';');
    if (!name) continue;
    const q = params.map((p) => /^\s*q=([0-9.]+)\s*$/.exec(p)).find((m) => m !== null);
    named.set(name.trim(), q ? Number(q[1]) : 1);
  }
  const star = named.get('*');
  for (const { name } of ENCODINGS) {
    const q = named.get(name) ?? star;
    if (q !== undefined && q > 0) accepted.add(name);
  }
  return accepted;
}

/**
 * Serves a single-page app. Files under assets/ carry a content hash in their name, so
 * they are cached for a year; index.html is revalidated every time so a deploy is picked up at
 * once. Any other path under the prefix that is not a file answers index.html (history-mode
 * routes such as /admin/contacts/42 or /e/7/ticket/…). Paths are resolved inside root and never leave it.
 *
 * Text files are sent as the brotli or gzip copy the build wrote beside them when the request's
 * Accept-Encoding allows it (`Vary: Accept-Encoding` for caches in between); nothing is
 * compressed per request. index.html is the one file changed per request (its `lang`), and small.
 */
export function createSpaWebMiddleware(params: SpaWebParams) {
  const { prefix } = params;
  const root = path.resolve(params.root);
  const page = async (ctx: Context): Promise<void> => {
    if (params.beforePage) await params.beforePage(ctx, () => sendIndex(ctx, root, params));
    else await sendIndex(ctx, root, params);
  };

  return async function serveSpaWeb(ctx: Context, next: Next): Promise<void> {
    if ((ctx.path !== prefix && !ctx.path.startsWith(`${prefix}/`)) || (ctx.method !== 'GET' && ctx.method !== 'HEAD')) {
      await next();
      return;
    }
    if (ctx.path === prefix) {
      ctx.redirect(`${prefix}/`);
      return;
    }

    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.set('Referrer-Policy', 'same-origin');
    const relative = ctx.path.slice(prefix.length + 1);
    // ctx.path is already percent-decoded by Koa; a NUL or a backslash has no business in a file name.
    const file = relative.includes('\0') || relative.includes('\\') ? null : path.resolve(root, relative);
    const inside = file !== null && file.startsWith(`${root}${path.sep}`);
    const isAsset = relative.startsWith('assets/');

    const found = inside ? await statFile(file) : null;
    if (found && file) {
      if (path.basename(file) === 'index.html') return page(ctx);
      // Hashed names never change content; the favicon and the like keep their name across
      // builds, so they are checked again after a day.
      ctx.set('Cache-Control', isAsset ? 'public, max-age=31536000, immutable' : 'public, max-age=86400');
      ctx.type = TYPES[path.extname(file)] ?? 'application/octet-stream';
      ctx.vary('Accept-Encoding');
      // A hashed asset is never asked again (immutable), so it carries no validator: on a first
      // load of some thirty files these headers would add up to a kilobyte and a half. The others
      // are revalidated by an ETag, the plain file's whichever copy is sent (written together).
      if (!isAsset) {
        ctx.etag = `W/"${found.size.toString(16)}-${Math.floor(found.mtimeMs).toString(16)}"`;
        ctx.status = 200; // ctx.fresh answers only for a 2xx
        if (ctx.fresh) {
          ctx.status = 304;
          return;
        }
      }
      const accepted = acceptedEncodings(ctx.get('Accept-Encoding'));
      for (const encoding of ENCODINGS) {
        if (!accepted.has(encoding.name)) continue;
        const copy = await statFile(`${file}${encoding.suffix}`);
        if (!copy) continue;
        ctx.set('Content-Encoding', encoding.name);
        ctx.length = copy.size;
        ctx.body = createReadStream(`${file}${encoding.suffix}`);
        return;
      }
      ctx.length = found.size;
      ctx.body = createReadStream(file);
      return;
    }
    if (relative === '') return page(ctx);
    // Outside root (../ tricks) is refused; a missing hashed asset is a stale page asking for an
    // old build: 404, never index.html served as JavaScript.
    if (!inside || isAsset) {
      ctx.status = 404;
      ctx.set('Cache-Control', 'no-cache');
      ctx.body = { error: { code: 'not_found', message: 'Not found' } };
      return;
    }
    return page(ctx);
  };
}

async function sendIndex(ctx: Context, root: string, params: SpaWebParams): Promise<void> {
  const index = path.join(root, 'index.html');
  const html = await readFile(index, 'utf8').catch(() => null);
  if (html === null) {
    ctx.status = 503;
    ctx.set('Cache-Control', 'no-cache');
    ctx.body = { error: params.notBuilt };
    return;
  }
  ctx.set('Cache-Control', 'no-cache');
  ctx.set('Content-Security-Policy', params.csp);
  ctx.type = TYPES['.html'];
  ctx.body = params.renderIndex ? params.renderIndex(html) : html;
}

async function statFile(file: string): Promise<Stats | null> {
  try {
    const found = await stat(file);
    return found.isFile() ? found : null;
  } catch {
    return null;
  }
}
