import { fileURLToPath } from 'node:url';
import vue from '@vitejs/plugin-vue';
import Components from 'unplugin-vue-components/vite';
import { ElementPlusResolver } from 'unplugin-vue-components/resolvers';
import { defineConfig } from 'vite';
import { precompress } from './vite-precompress.mts';

const here = (p: string): string => fileURLToPath(new URL(p, import.meta.url));

const outDir = here('../dist/web/admin');

/**
 * The admin app (web/admin) built to dist/web/admin and served by Koa at /admin. Element Plus
 * components (and their CSS) are imported where a template uses them, not the whole library.
 * The public mobile pages (web/mobile, served at /e/) are a second build with their own base:
 * web/vite.mobile.config.mts.
 */
export default defineConfig({
  root: here('./admin'),
  base: '/admin/',
  plugins: [
    vue(),
    Components({
      dts: here('./admin/components.d.ts'),
      dirs: [],
      resolvers: [ElementPlusResolver({ importStyle: 'css' })],
    }),
    precompress(outDir),
  ],
  resolve: { alias: { '@shared': here('./shared') } },
  // Compile-time switches that let the bundler drop code the page never runs: every component
  // here (Element Plus's and ours) is written with setup(), and vue-i18n is used in composition
  // mode only (`legacy: false`, no <i18n-t> components, no devtools).
  define: {
    __VUE_OPTIONS_API__: 'false',
    __VUE_I18N_LEGACY_API__: 'false',
    __VUE_I18N_FULL_INSTALL__: 'false',
    __INTLIFY_PROD_DEVTOOLS__: 'false',
  },
  build: {
    outDir,
    emptyOutDir: true,
    assetsDir: 'assets',
    chunkSizeWarningLimit: 700,
    // The precompression above is slow on purpose (brotli's best level, a few seconds); the
    // bundler's "slow plugin" notice about it on every build says nothing new.
    rolldownOptions: { checks: { pluginTimings: false } },
  },
});
