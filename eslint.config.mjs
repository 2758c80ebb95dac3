import js from '@eslint/js';
import boundaries from 'eslint-plugin-boundaries';
import tseslint from 'typescript-eslint';

/**
 * DESIGN.md's layout as lint rules (eslint-plugin-boundaries). Each folder is an element; the
 * first descriptor that matches a file wins, so the sandbox comes before the other adapters.
 * Policies are last-match-wins: "disallow everything, then allow X" reads as an allow-list.
 * server/*.ts (main, app, compose) is no element: the composition root may import anything, and
 * checkUnknownLocals makes an import *of* it count as "anything" for the allow-lists.
 */
const ELEMENTS = [
  { type: 'wechat', pattern: 'server/wechat/**', partialMatch: false },
  { type: 'sandbox', pattern: 'server/adapters/sandbox/**', partialMatch: false },
  { type: 'adapters', pattern: 'server/adapters/**', partialMatch: false },
  { type: 'modules', pattern: 'server/modules/**', partialMatch: false },
  { type: 'http', pattern: 'server/http/**', partialMatch: false },
  { type: 'jobs', pattern: 'server/jobs/**', partialMatch: false },
  { type: 'db', pattern: 'server/db/**', partialMatch: false },
  { type: 'entities', pattern: 'entities/**', partialMatch: false },
  { type: 'config', pattern: 'config/**', partialMatch: false },
];

const element = (...types) => ({ element: types.map((type) => ({ type })) });
const external = (...sources) => ({ module: sources.map((source) => ({ origin: 'external', source })) });
const anything = { module: { origin: '*' } };

const LAYOUT_POLICIES = [
  {
    from: element('wechat'),
    disallow: { to: anything },
    message: 'server/wechat is pure protocol code: node builtins and server/wechat only',
  },
  { from: element('wechat'), allow: { to: [{ module: { origin: 'core' } }, element('wechat')] } },
  {
    from: element('entities'),
    disallow: { to: anything },
    message: 'entities/ holds TypeORM entities only: typeorm and other entities',
  },
  { from: element('entities'), allow: { to: [external('typeorm'), element('entities')] } },
  {
    from: element('http'),
    disallow: { to: [external('typeorm'), element('db')] },
    message: 'routes call modules; they never touch typeorm or server/db',
  },
  {
    from: element('modules'),
    disallow: { to: [element('http'), external('koa', '@koa/*', 'koa-*')] },
    message: 'server/modules know nothing of HTTP: no server/http, no koa',
  },
  {
    from: element('jobs'),
    disallow: { to: anything },
    message: 'server/jobs only registers schedules: node-cron, server/jobs, adapters and module types',
  },
  {
    from: element('jobs'),
    allow: { to: [{ module: { origin: 'core' } }, external('node-cron'), element('jobs', 'adapters')] },
  },
  { from: element('jobs'), allow: { to: element('modules'), dependency: { kind: 'type' } } },
  {
    from: element('adapters', 'sandbox'),
    disallow: { to: element('modules', 'http') },
    message: 'server/adapters are the platform edge: they do not import server/modules or server/http',
  },
  {
    from: element('config'),
    disallow: { to: { module: { origin: 'local' } } },
    message: 'config/ is read by the server, never the other way round',
  },
  { from: element('config'), allow: { to: element('config') } },
];

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'artifacts/**',
      'web/admin/components.d.ts',
      'web/mobile/components.d.ts',
      'web/mobile/sidebar/components.d.ts',
      'node_modules/**',
      'coverage/**',
      'miniprogram/**',
      'data/**',
      '*.js',
      '*.mjs',
      // Plain CommonJS loaded by `node -r` before any TypeScript (the fault tests' sender child).
      'test/support/ts-register.js',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      // A `switch` over a union names every member (a `default` does not stand in for a new
      // member someone adds later); a switch over a plain string or number needs a `default`.
      '@typescript-eslint/switch-exhaustiveness-check': [
        'error',
        { considerDefaultExhaustiveForUnions: false, requireDefaultForNonUnion: true },
      ],
    },
  },
  {
    files: ['server/**/*.ts', 'entities/**/*.ts', 'config/**/*.ts'],
    plugins: { boundaries },
    settings: {
      'boundaries/root-path': import.meta.dirname,
      'boundaries/elements': ELEMENTS,
      'boundaries/include': ['server/**/*.ts', 'entities/**/*.ts', 'config/**/*.ts'],
      'import/resolver': { node: { extensions: ['.ts', '.js', '.json'] } },
    },
    rules: {
      'boundaries/dependencies': [
        'error',
        { default: 'allow', checkAllOrigins: true, checkUnknownLocals: true, policies: LAYOUT_POLICIES },
      ],
    },
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/unbound-method': 'off',
    },
  },
);
