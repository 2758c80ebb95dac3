import { execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');
export const ADMIN_WEB_ROOT = path.join(ROOT, 'dist/web/admin');
export const MOBILE_WEB_ROOT = path.join(ROOT, 'dist/web/mobile');
/** The WeCom sidebar (web/mobile/sidebar, web/vite.sidebar.config.mts). */
export const SIDEBAR_WEB_ROOT = path.join(ROOT, 'dist/web/sidebar');

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'components.d.ts') continue; // written by the builds themselves
    const full = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(full) : statSync(full).mtimeMs);
  }
  return newest;
}

function builtAt(webRoot: string): number {
  try {
    return statSync(path.join(webRoot, 'index.html')).mtimeMs;
  } catch {
    return 0;
  }
}

/** The three Vite builds (`npm run build:web`): the admin page, the public mobile pages, the WeCom sidebar. */
const BUILDS = [
  { config: 'web/vite.config.mts', root: ADMIN_WEB_ROOT },
  { config: 'web/vite.mobile.config.mts', root: MOBILE_WEB_ROOT },
  { config: 'web/vite.sidebar.config.mts', root: SIDEBAR_WEB_ROOT },
];

/**
 * jest globalSetup: the browser tests need the built pages. Build each once, and only when web/
 * (or the lock file) changed since its last build, so that `npm test` stays fast.
 */
export default function buildWebIfStale(): void {
  const sources = Math.max(newestMtime(path.join(ROOT, 'web')), statSync(path.join(ROOT, 'package-lock.json')).mtimeMs);
  for (const build of BUILDS) {
    if (builtAt(build.root) >= sources) continue;
    process.stdout.write(`\nbuilding ${path.relative(ROOT, build.root)} (web/ changed)…\n`);
    execFileSync(
      process.execPath,
      [path.join(ROOT, 'node_modules/vite/bin/vite.js'), 'build', '--config', build.config, '--logLevel', 'warn'],
      { cwd: ROOT, stdio: 'inherit' },
    );
  }
}
