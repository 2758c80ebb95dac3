import type { Middleware } from 'koa';
import { createSpaWebMiddleware } from './spa-web';

export interface MobileWebParams {
  /** The built public pages (dist/web/mobile): index.html and assets/. */
  root: string;
  /**
   * Runs before the page's HTML is sent for /e/:eventId and /e/:eventId/… (never for assets): the
   * place for WeChat's web OAuth (snsapi_base), which redirects a visitor inside WeChat once to
   * learn the openid and lets every other request through to the page.
   */
  beforePage?: Middleware;
}

/**
 * The public pages' policy: as the admin page's (admin-web.ts says why style-src needs
 * 'unsafe-inline': Vant positions its dialog and binds `:style` too), with images from this origin
 * only (the ticket's QR code is /api/events/…/qr.png). The map links are plain navigations to
 * Tencent Maps and AMap, which no directive here restricts.
 */
export const MOBILE_CSP = [
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
 * Serves the public mobile app (web/mobile, Vant) at /e/: hashed files under /e/assets/ (an event
 * id is a number, never `assets`), and the page's HTML for every other /e/… path, whose route
 * (/e/:eventId, /e/:eventId/ticket/:token) the page reads itself. Files, caching and compression
 * are spa-web.ts's, shared with the admin page.
 */
export function createMobileWebMiddleware(params: MobileWebParams): Middleware {
  return createSpaWebMiddleware({
    root: params.root,
    prefix: '/e',
    csp: MOBILE_CSP,
    notBuilt: { code: 'mobile_not_built', message: 'The public pages are not built: run npm run build' },
    beforePage: params.beforePage,
  });
}
