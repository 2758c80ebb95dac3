import { fileURLToPath } from 'node:url';
import vue from '@vitejs/plugin-vue';
import Components from 'unplugin-vue-components/vite';
import { ElementPlusResolver } from 'unplugin-vue-components/resolvers';
import { defineConfig } from 'vite';
import { precompress } from './vite-precompress.mts';

const here = (p: string): string => fileURLToPath(new URL(p, import.meta.url));

const outDir = here('../dist/web/admin');

/** A module id under node_modules/<path>, on any platform. */
const dep = (path: string): string => `[\\\\/]node_modules[\\\\/]${path.replaceAll('/', '[\\\\/]')}`;
const ours = (path: string): string => `[\\\\/]web[\\\\/]${path.replaceAll('/', '[\\\\/]')}`;

/**
 * Fewer, larger chunks for the first load (docs/BENCHMARKS.md, the admin page's first load). Left
 * to itself the bundler makes one chunk per set of lazy routes sharing some code: the login page
 * came as 13 scripts and 8 stylesheets, a dozen of them under a kilobyte, each with about 350 bytes
 * of response headers. Three groups instead; every other module is split as before (each screen,
 * ECharts and vue-flow stay in their own route's chunks).
 *
 * - `index`: the entry and everything it imports statically (Vue, the router, vue-i18n, the
 *   session, the zh-CN core messages): one script and one stylesheet instead of four.
 * - `first`: what both the login page and the signed-in shell with the dashboard use (Element
 *   Plus's button, card and icons, @vueuse, the locale switch, the error wording), which both
 *   loads fetched anyway, in five chunks. Each module here is on both loads; anything they import
 *   comes along.
 * - `login`: what only the login page uses among them (the input, the alert, the view). Screens
 *   with an input load this chunk too, a few hundred bytes of the view and the alert more.
 */
const FIRST_LOAD_CHUNKS = [
  { name: 'index', tags: ['$initial' as const], priority: 3 },
  {
    name: 'first',
    priority: 2,
    test: new RegExp(
      [
        dep('@vueuse/core/'),
        dep('@element-plus/icons-vue/'),
        dep('@ctrl/tinycolor/'),
        dep('lodash-es/(pick|flatten)\\.js'),
        dep('element-plus/es/components/(button|card)/'),
        dep('element-plus/es/constants/event'),
        dep('element-plus/es/utils/(typescript|browser|raf|vue/vnode)\\.mjs'),
        dep('element-plus/es/hooks/use-aria/'),
        ours('admin/format\\.ts'),
        ours('admin/components/LocaleSwitch\\.vue'),
        ours('shared/(errors|time)\\.ts'),
        'plugin-vue:export-helper',
      ].join('|'),
    ),
  },
  {
    name: 'login',
    priority: 1,
    test: new RegExp(
      [
        dep('element-plus/es/components/(input|alert)/'),
        dep('element-plus/es/hooks/use-(focus-controller|cursor|composition|attrs)/'),
        ours('admin/views/LoginView\\.vue'),
      ].join('|'),
    ),
  },
];

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
    rolldownOptions: { checks: { pluginTimings: false }, output: { codeSplitting: { groups: FIRST_LOAD_CHUNKS } } },
  },
});
