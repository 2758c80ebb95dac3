import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { Context, Next } from 'koa';

export interface AdminWebParams {
  /** The built admin app (dist/web/admin): index.html and assets/. */
  root: string;
  /** Where it is served; the Vite build uses the same base. */
  prefix?: string;
}

/**
 * The page's policy. Scripts only from this origin and no inline script (Vite emits module
 * files, nothing inline). style-src needs 'unsafe-inline': Element Plus positions popovers,
 * dialogs and loading masks with inline `style` attributes and injects CSS variables at run time,
 * and vue binds `:style`; without it menus and dialogs render unpositioned. Styles cannot run code,
 * so the XSS protection stays with script-src. ECharts draws on canvas (no blob/data workers).
 */
export const ADMIN_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

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

/**
 * Serves the admin single-page app. Files under assets/ carry a content hash in their name, so
 * they are cached for a year; index.html is revalidated every time so a deploy is picked up at
 * once. Any other path under the prefix that is not a file answers index.html (history-mode
 * routes such as /admin/contacts/42). Paths are resolved inside root and never leave it.
 */
export function createAdminWebMiddleware(params: AdminWebParams) {
  const prefix = params.prefix ?? '/admin';
  const root = path.resolve(params.root);

  return async function serveAdminWeb(ctx: Context, next: Next): Promise<void> {
    if (ctx.path === '/' && (ctx.method === 'GET' || ctx.method === 'HEAD')) {
      ctx.redirect(`${prefix}/`);
      return;
    }
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

    if (inside && (await isFile(file))) {
      if (path.basename(file) === 'index.html') return sendIndex(ctx, root);
      ctx.set('Cache-Control', isAsset ? 'public, max-age=31536000, immutable' : 'no-cache');
      ctx.type = TYPES[path.extname(file)] ?? 'application/octet-stream';
      ctx.body = createReadStream(file);
      return;
    }
    if (relative === '') return sendIndex(ctx, root);
    // Outside root (../ tricks) is refused; a missing hashed asset is a stale page asking for an
    // old build: 404, never index.html served as JavaScript.
    if (!inside || isAsset) {
      ctx.status = 404;
      ctx.set('Cache-Control', 'no-cache');
      ctx.body = { error: { code: 'not_found', message: 'Not found' } };
      return;
    }
    return sendIndex(ctx, root);
  };
}

async function sendIndex(ctx: Context, root: string): Promise<void> {
  const index = path.join(root, 'index.html');
  if (!(await isFile(index))) {
    ctx.status = 503;
    ctx.set('Cache-Control', 'no-cache');
    ctx.body = { error: { code: 'admin_not_built', message: 'The admin page is not built: run npm run build' } };
    return;
  }
  ctx.set('Cache-Control', 'no-cache');
  ctx.set('Content-Security-Policy', ADMIN_CSP);
  ctx.type = TYPES['.html'];
  ctx.body = createReadStream(index);
}

async function isFile(file: string): Promise<boolean> {
  try {
    return (await stat(file)).isFile();
  } catch {
    return false;
  }
}
