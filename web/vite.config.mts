import { fileURLToPath } from 'node:url';
import vue from '@vitejs/plugin-vue';
import Components from 'unplugin-vue-components/vite';
import { ElementPlusResolver } from 'unplugin-vue-components/resolvers';
import { defineConfig } from 'vite';

const here = (p: string): string => fileURLToPath(new URL(p, import.meta.url));

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
  ],
  resolve: { alias: { '@shared': here('./shared') } },
  build: {
    outDir: here('../dist/web/admin'),
    emptyOutDir: true,
    assetsDir: 'assets',
    chunkSizeWarningLimit: 700,
  },
});
