import { readdirSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { brotliCompress, constants as zlib, gzip } from 'node:zlib';
import type { Plugin } from 'vite';

/** Text files worth compressing; images and fonts here are already compressed (woff2) or tiny. */
const COMPRESSIBLE = /\.(js|mjs|css|html|svg|json)$/;
/** Below this a compressed copy saves next to nothing (a copy that is not smaller is never written). */
const MIN_BYTES = 256;

/**
 * Writes `<file>.br` and `<file>.gz` beside every text file of the build, once, at build time, at
 * the highest levels (brotli 11 takes about a second for the whole page; far too slow per
 * request, free here). server/http/spa-web.ts picks one by the request's Accept-Encoding.
 * A copy that is not smaller than the file is not written, so the server sends the file itself.
 */
export function precompress(outDir: string): Plugin {
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
