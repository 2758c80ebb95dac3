/* eslint-disable */
// Lets a child process (node -r test/support/ts-register.js script.ts) run the TypeScript sources
// directly: each .ts file is transpiled on require with the project's compiler options
// (decorators and their metadata, which TypeORM's entities need). No type checking: tsc does that.
// Outputs are cached in the temp directory by path, size and mtime: transpiling the server's
// ~150 files costs seconds of CPU, paid once, not by every child a test starts.
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const cacheDir = path.join(os.tmpdir(), 'flywheel-ts-register');
fs.mkdirSync(cacheDir, { recursive: true });
let ts = null;

const compilerOptions = () => ({
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.CommonJS,
  experimentalDecorators: true,
  emitDecoratorMetadata: true,
  esModuleInterop: true,
  resolveJsonModule: true,
  isolatedModules: true,
});

require.extensions['.ts'] = function compileTypeScript(module, filename) {
  const stat = fs.statSync(filename);
  const key = crypto.createHash('sha256').update(`${filename}\n${stat.size}\n${stat.mtimeMs}`).digest('hex');
  const cached = path.join(cacheDir, `${key}.js`);
  let output;
  try {
    output = fs.readFileSync(cached, 'utf8');
  } catch {
    ts = ts ?? require('typescript');
    output = ts.transpileModule(fs.readFileSync(filename, 'utf8'), { compilerOptions: compilerOptions(), fileName: filename }).outputText;
    const temporary = `${cached}.${process.pid}`;
    fs.writeFileSync(temporary, output);
    fs.renameSync(temporary, cached);
  }
  module._compile(output, filename);
};
