import { execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');
export const ADMIN_WEB_ROOT = path.join(ROOT, 'dist/web/admin');

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'components.d.ts') continue; // written by the build itself
    const full = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(full) : statSync(full).mtimeMs);
  }
  return newest;
}

function builtAt(): number {
  try {
    return statSync(path.join(ADMIN_WEB_ROOT, 'index.html')).mtimeMs;
  } catch {
    return 0;
  }
}

/**
 * jest globalSetup: the browser tests need the built page. Build it once, and only when web/ (or
 * the lock file) changed since the last build, so that `npm test` stays fast.
 */
export default function buildWebIfStale(): void {
  const sources = Math.max(newestMtime(path.join(ROOT, 'web')), statSync(path.join(ROOT, 'package-lock.json')).mtimeMs);
  if (builtAt() >= sources) return;
  process.stdout.write('\nbuilding the admin page (web/ changed)…\n');
  execFileSync(
    process.execPath,
    [path.join(ROOT, 'node_modules/vite/bin/vite.js'), 'build', '--config', 'web/vite.config.mts', '--logLevel', 'warn'],
    { cwd: ROOT, stdio: 'inherit' },
  );
}
