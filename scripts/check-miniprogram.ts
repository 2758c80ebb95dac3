/**
 * The mini-program's build check (issue 17 §4 and its benchmark), run in CI by
 * test/miniprogram/compile.test.ts and by hand with `node dist/scripts/check-miniprogram.js`
 * after `npm run build`:
 * - every page app.json lists has its .json, .wxml, .wxss and .ts (the developer tools refuse a
 *   page without them);
 * - every WXML compiles with WeChat's own compiler, `wcc`, and every WXSS with `wcsc`, the
 *   binaries miniprogram-compiler ships (x86-64 Linux, macOS, Windows). They come without the
 *   execute bit, so they are made executable here, at run time (node_modules must be writable);
 * - the main package (what the tools upload: the TypeScript as the JavaScript it compiles to, the
 *   templates, styles, JSON and assets; not project.config.json or tsconfig.json) is under WeChat's
 *   2 MB limit (https://developers.weixin.qq.com/miniprogram/dev/framework/subpackages.html);
 * - no file looks like it holds a secret (issue 17 §2: an AppSecret is 32 hex characters, and a
 *   package is readable by anyone who has the mini-program).
 *
 * miniprogram-compiler has no types, and its wcsc wrapper returns an Error rather than throwing
 * one, so both wrappers are called through small typed functions that turn either into a message.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import ts from 'typescript';

/** WeChat's limit for the main package (and each subpackage). */
export const MAIN_PACKAGE_LIMIT_BYTES = 2 * 1024 * 1024;

/** Files the developer tools keep out of the upload (project.config.json packOptions and the tools' own files). */
const NOT_UPLOADED = new Set(['project.config.json', 'project.private.config.json', 'tsconfig.json']);

export interface MiniprogramCheck {
  pages: string[];
  /** One line per problem: a missing file, a wcc or wcsc error, the size over the limit, a secret. */
  errors: string[];
  /** The main package's size in bytes, TypeScript counted as its compiled JavaScript. */
  packageBytes: number;
}

type WccFn = (rootPath: string, files: string[], wxsFiles: string[], options: object) => string;
type WcscFn = (rootPath: string, files: string[], options: object) => unknown;

const requireHere = createRequire(__filename);

function compilerFn<T>(name: 'wcc' | 'wcsc'): T {
  const fn: unknown = requireHere(`miniprogram-compiler/src/${name}`);
  if (typeof fn !== 'function') throw new Error(`miniprogram-compiler/src/${name} is not a function`);
  return fn as T;
}

/** wcc and wcsc ship with mode 644 in the npm tarball: without this, spawning them fails with EACCES. */
export function makeCompilersExecutable(): string[] {
  const root = path.dirname(requireHere.resolve('miniprogram-compiler/package.json'));
  const platformDir = process.platform === 'darwin' ? 'mac' : process.platform === 'win32' ? 'windows' : 'linux';
  const binaries = ['wcc', 'wcsc'].map((name) => path.join(root, 'bin', platformDir, process.platform === 'win32' ? `${name}.exe` : name));
  for (const binary of binaries) fs.chmodSync(binary, 0o755);
  return binaries;
}

function filesUnder(root: string, dir = ''): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(path.join(root, dir), { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
    const relative = dir ? `${dir}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...filesUnder(root, relative));
    else out.push(relative);
  }
  return out;
}

/** An AppSecret's shape (32 hex characters), or a value given to a key named like a secret. */
const SECRET_LIKE = [/\b[0-9a-fA-F]{32}\b/, /\b(?:app_?secret|secret|session_?key)\b["']?\s*[:=]\s*["'][^"']+["']/i];

function pagesOf(root: string): string[] {
  const app: unknown = JSON.parse(fs.readFileSync(path.join(root, 'app.json'), 'utf8'));
  const pages: unknown = typeof app === 'object' && app !== null ? Reflect.get(app, 'pages') : undefined;
  if (!Array.isArray(pages) || !pages.every((page): page is string => typeof page === 'string')) {
    throw new Error('app.json has no "pages" list of strings');
  }
  return pages;
}

/** The bytes the tools would upload for one file: a .ts file as the JavaScript it compiles to. */
function uploadedBytes(root: string, file: string): number {
  const full = path.join(root, file);
  if (!file.endsWith('.ts') || file.endsWith('.d.ts')) return file.endsWith('.d.ts') ? 0 : fs.statSync(full).size;
  const output = ts.transpileModule(fs.readFileSync(full, 'utf8'), {
    compilerOptions: { target: ts.ScriptTarget.ES2020, module: ts.ModuleKind.CommonJS },
  }).outputText;
  return Buffer.byteLength(output);
}

export function checkMiniprogram(root: string): MiniprogramCheck {
  const errors: string[] = [];
  const pages = pagesOf(root);
  for (const page of pages) {
    for (const ext of ['json', 'wxml', 'wxss', 'ts']) {
      if (!fs.existsSync(path.join(root, `${page}.${ext}`))) errors.push(`${page}.${ext}: missing (app.json lists the page)`);
    }
  }

  makeCompilersExecutable();
  const files = filesUnder(root);
  const strip = (file: string, ext: string): string => file.slice(0, -ext.length);
  // wcc wants every template at once (imports and includes resolve among them), as the tools give it.
  const wxml = files.filter((file) => file.endsWith('.wxml')).map((file) => strip(file, '.wxml'));
  const wxs = files.filter((file) => file.endsWith('.wxs'));
  try {
    compilerFn<WccFn>('wcc')(root, wxml, wxs, {});
  } catch (error) {
    errors.push(error instanceof Error ? error.message.trim() : String(error));
  }
  const wxss = files.filter((file) => file.endsWith('.wxss')).map((file) => strip(file, '.wxss'));
  const styles = compilerFn<WcscFn>('wcsc')(root, wxss, {});
  if (styles instanceof Error) errors.push(styles.message.trim());

  for (const file of files.filter((f) => /\.(ts|js|json|wxml|wxs)$/.test(f))) {
    const text = fs.readFileSync(path.join(root, file), 'utf8');
    if (SECRET_LIKE.some((pattern) => pattern.test(text)))
      errors.push(`${file}: looks like it holds a secret (none belong in the mini-program)`);
  }

  const packageBytes = files.filter((file) => !NOT_UPLOADED.has(file)).reduce((sum, file) => sum + uploadedBytes(root, file), 0);
  if (packageBytes >= MAIN_PACKAGE_LIMIT_BYTES) {
    errors.push(`main package: ${packageBytes} bytes, over WeChat's limit of ${MAIN_PACKAGE_LIMIT_BYTES} bytes (2 MB)`);
  }
  return { pages, errors, packageBytes };
}

if (require.main === module) {
  const root = path.resolve(process.argv[2] ?? path.join(__dirname, '../../miniprogram'));
  const result = checkMiniprogram(root);
  for (const error of result.errors) console.error(error);
  console.log(`${result.pages.length} pages, main package ${(result.packageBytes / 1024).toFixed(1)} KB of 2048 KB`);
  process.exitCode = result.errors.length > 0 ? 1 : 0;
}
