import { readdirSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { brotliCompress, constants as zlib, gzip } from 'node:zlib';
import vue from '@vitejs/plugin-vue';
import Components from 'unplugin-vue-components/vite';
import { ElementPlusResolver } from 'unplugin-vue-components/resolvers';
import { defineConfig, type Plugin } from 'vite';

const here = (p: string): string => fileURLToPath(new URL(p, import.meta.url));

/** Text files worth compressing; images and fonts here are already compressed (woff2) or tiny. */
const COMPRESSIBLE = /\.(js|mjs|css|html|svg|json)$/;
/** Below this a compressed copy saves next to nothing (a copy that is not smaller is never written). */
const MIN_BYTES = 256;

/**
 * Writes `<file>.br` and `<file>.gz` beside every text file of the build, once, at build time, at
 * the highest levels (brotli 11 takes about a second for the whole page; far too slow per
 * request, free here). server/http/admin-web.ts picks one by the request's Accept-Encoding.
 * A copy that is not smaller than the file is not written, so the server sends the file itself.
 */
function precompress(outDir: string): Plugin {
  return {
    name: 'flywheel-precompress',
    apply: 'build',
    async closeBundle() {
      const walk = (dir: string): string[] =>
        readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
          entry.isDirectory() ? walk(path.join(dir, entry.name)) : [path.join(dir, entry.name)],
        );
      const brotli = promisify(brotliCompress);
      const gzipAsync = promisify(gzip);
      // On libuv's thread pool, every file at once.
      const compressOne = async (file: string): Promise<void> => {
        const raw = await readFile(file);
        if (raw.length < MIN_BYTES) return;
        const [br, gz] = await Promise.all([
          brotli(raw, { params: { [zlib.BROTLI_PARAM_QUALITY]: zlib.BROTLI_MAX_QUALITY, [zlib.BROTLI_PARAM_SIZE_HINT]: raw.length } }),
          gzipAsync(raw, { level: 9 }),
        ]);
        if (br.length < raw.length) await writeFile(`${file}.br`, br);
        if (gz.length < raw.length) await writeFile(`${file}.gz`, gz);
      };
      await Promise.all(
        walk(outDir)
          .filter((file) => COMPRESSIBLE.test(file))
          .map(compressOne),
      );
    },
  };
}

const outDir = here('../dist/web/admin');

/**
 * The admin app (web/admin) built to dist/web/admin and served by Koa at /admin. Element Plus
 * components (and their CSS) are imported where a template uses them, not the whole library.
 * A second app (web/sidebar) will get its own input here and share web/shared.
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
