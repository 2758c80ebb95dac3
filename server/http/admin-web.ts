import type { Context, Next } from 'koa';
import { createSpaWebMiddleware } from './spa-web';

export { acceptedEncodings } from './spa-web';

export interface AdminWebParams {
  /** The built admin app (dist/web/admin): index.html and assets/. */
  root: string;
  /** Where it is served; the Vite build uses the same base. */
  prefix?: string;
  /**
   * The page's language until the operator picks one (ADMIN_LOCALE): written into index.html's
   * `<html lang>`, which the page reads before it draws anything (no extra request, no inline
   * script under the CSP). zh-CN when not given.
   */
  locale?: 'zh-CN' | 'en';
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

/**
 * Serves the admin single-page app (files, caching and compression: spa-web.ts), and sends the
 * site's root to it.
 */
export function createAdminWebMiddleware(params: AdminWebParams) {
  const prefix = params.prefix ?? '/admin';
  const locale = params.locale ?? 'zh-CN';
  const serve = createSpaWebMiddleware({
    root: params.root,
    prefix,
    csp: ADMIN_CSP,
    renderIndex: (html) => html.replace(/<html lang="[^"]*"/, `<html lang="${locale}"`),
    notBuilt: { code: 'admin_not_built', message: 'The admin page is not built: run npm run build' },
  });

  return async function serveAdminWeb(ctx: Context, next: Next): Promise<void> {
    if (ctx.path === '/' && (ctx.method === 'GET' || ctx.method === 'HEAD')) {
      ctx.redirect(`${prefix}/`);
      return;
    }
    await serve(ctx, next);
  };
}
