import { defineConfig } from 'vite';
import { vantPageConfig } from './vite-vant-page.mts';

/**
 * The WeCom sidebar (web/mobile/sidebar: the customer in front of a sales rep, opened from the
 * chat tool bar) built to dist/web/sidebar and served by Koa at /sidebar (server/http/sidebar-web.ts).
 * Its own build beside the public pages' (web/vite.mobile.config.mts), sharing their stack and
 * settings: it has its own base and budget (first load ≤ 150 KB on the wire, `npm run bench:web`),
 * and it carries the WeCom JS-SDK, which the public pages must not.
 */
export default defineConfig(vantPageConfig({ root: 'mobile/sidebar', base: '/sidebar/', out: 'sidebar' }));
