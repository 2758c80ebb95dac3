import { fileURLToPath } from 'node:url';
import vue from '@vitejs/plugin-vue';
import Components from 'unplugin-vue-components/vite';
import { VantResolver } from 'unplugin-vue-components/resolvers';
import { defineConfig, type Plugin } from 'vite';
import { precompress } from './vite-precompress.mts';

const here = (p: string): string => fileURLToPath(new URL(p, import.meta.url));

const outDir = here('../dist/web/mobile');

/**
 * Vant's icon CSS carries its whole icon font inline (a 34 KB base64 woff2, some 26 KB gzipped: a
 * quarter of the page's budget), and every component's style imports it, used or not. These
 * pages draw no Vant icon (no `icon` props, no van-icon, native checkbox and radio), so the
 * import is answered by an empty file. A component that needs an icon must bring its own SVG.
 */
function withoutVantIconFont(): Plugin {
  const empty = here('./mobile/vant-icons-off.css');
  return {
    name: 'flywheel-without-vant-icon-font',
    enforce: 'pre',
    resolveId(source, importer) {
      if (importer?.includes('/vant/es/') && /\/icon\/index\.css$/.test(source)) return empty;
      return null;
    },
  };
}

/**
 * The public mobile pages (web/mobile: the invitation page, the ticket) built to dist/web/mobile
 * and served by Koa at /e/ (server/http/mobile-web.ts). A build of its own beside the admin's
 * (web/vite.config.mts), because it has its own base and its own budget: the first load must stay
 * under 100 KB on the wire (`npm run bench:web`). Vant components, and their CSS, are imported
 * where a template uses them; no router and no vue-i18n (web/mobile/route.ts, messages.ts).
 */
export default defineConfig({
  root: here('./mobile'),
  base: '/e/',
  plugins: [
    withoutVantIconFont(),
    vue(),
    Components({
      dts: here('./mobile/components.d.ts'),
      dirs: [],
      resolvers: [VantResolver({ importStyle: 'css' })],
    }),
    precompress(outDir),
  ],
  resolve: { alias: { '@shared': here('./shared') } },
  // Every component here (Vant's and ours) is written with setup().
  define: { __VUE_OPTIONS_API__: 'false' },
  build: {
    outDir,
    emptyOutDir: true,
    // /e/assets/…: an event id is a number, never `assets` (server/http/mobile-web.ts).
    assetsDir: 'assets',
    rolldownOptions: { checks: { pluginTimings: false } },
  },
});
