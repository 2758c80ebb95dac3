import { fileURLToPath } from 'node:url';
import vue from '@vitejs/plugin-vue';
import Components from 'unplugin-vue-components/vite';
import { VantResolver } from 'unplugin-vue-components/resolvers';
import type { Plugin, UserConfig } from 'vite';
import { precompress } from './vite-precompress.mts';

const here = (p: string): string => fileURLToPath(new URL(p, import.meta.url));

/**
 * Vant's icon CSS carries its whole icon font inline (a 34 KB base64 woff2, some 26 KB gzipped: a
 * quarter of the public pages' budget), and every component's style imports it, used or not. The
 * Vant pages draw no Vant icon (no `icon` props, no van-icon, native checkbox and radio), so the
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

export interface VantPageParams {
  /** The page's folder under web/ (its index.html is there), e.g. `mobile`. */
  root: string;
  /** The path Koa serves the build at, e.g. `/e/`. */
  base: string;
  /** The build's folder under dist/web, e.g. `mobile`. */
  out: string;
}

/**
 * One light Vue 3 + Vant page build (the public pages at /e/, the WeCom sidebar at /sidebar/):
 * Vant components and their CSS imported where a template uses them, no icon font, no options
 * API, every text file precompressed for server/http/spa-web.ts. Each page keeps its own config
 * file (its base, its first-load budget), and they share everything else from here.
 */
export function vantPageConfig(params: VantPageParams): UserConfig {
  const outDir = here(`../dist/web/${params.out}`);
  return {
    root: here(`./${params.root}`),
    base: params.base,
    plugins: [
      withoutVantIconFont(),
      vue(),
      Components({
        dts: here(`./${params.root}/components.d.ts`),
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
      assetsDir: 'assets',
      // The precompression is slow on purpose (brotli's best level): the notice about it says nothing new.
      rolldownOptions: { checks: { pluginTimings: false } },
    },
  };
}
