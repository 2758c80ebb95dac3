/**
 * ts-jest in transpile-only mode (isolatedModules, from tsconfig.jest.json): fast, keeps decorator metadata for TypeORM;
 * `npm run typecheck` does the type checking. (Not SWC: its platform binaries break `npm ci`
 * with this machine's registry, see README.)
 */
/*
 * `npm test` runs two workers (`--maxWorkers=2`). Each worker is its own process with its own
 * databases (test/support/database.ts names MariaDB databases by pid, counter and a random part;
 * SQLite files live in mkdtemp directories) and servers on port 0, so suites never share state.
 * Measured on this 2-core machine, the whole suite (558 tests): with other work running,
 * --runInBand 127, 75, 55 s; 2 workers 50, 64, 49, 55 s; 3 workers 51, 54 s; 4 workers 58 s; on
 * a quiet machine, --runInBand 48.7 s against 2 workers 27.7 s. The suites wait on MariaDB's
 * commits more than they use the CPU, so two workers overlap the waits; more only add contention.
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
