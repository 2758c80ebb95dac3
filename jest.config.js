/**
 * ts-jest in transpile-only mode (isolatedModules, from tsconfig.jest.json): fast, keeps decorator metadata for TypeORM;
 * `npm run typecheck` does the type checking. (Not SWC: its platform binaries break `npm ci`
 * with this machine's registry, see README.)
 */
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.jest.json', diagnostics: false }],
  },
  testTimeout: 30000,
  // Builds the admin page for the browser tests when web/ changed (test/support/build-web.ts).
  globalSetup: '<rootDir>/test/support/build-web.ts',
};
