import { defineConfig } from 'vite';
import { vantPageConfig } from './vite-vant-page.mts';

/**
 * The public mobile pages (web/mobile: the invitation page, the ticket) built to dist/web/mobile
 * and served by Koa at /e/ (server/http/mobile-web.ts). A build of its own beside the admin's
 * (web/vite.config.mts), because it has its own base and its own budget: the first load must stay
 * under 100 KB on the wire (`npm run bench:web`). Vant components, and their CSS, are imported
 * where a template uses them; no router and no vue-i18n (web/mobile/route.ts, messages.ts).
 * /e/assets/…: an event id is a number, never `assets` (server/http/mobile-web.ts).
 */
export default defineConfig(vantPageConfig({ root: 'mobile', base: '/e/', out: 'mobile' }));
