import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import type { DataSource } from 'typeorm';
import { ConfigError, loadConfig } from '../../config/config.schema';
import { systemClock, type Clock } from '../adapters/clock';
import { createLogger, type Logger } from '../adapters/logger';
import { composeOperators } from '../compose';
import { createDataSource } from '../db/data-source';
import { runMigrationsWithLock } from '../db/migrate';
import { Transactor } from '../db/transaction';
import { StatCountersService, STAT_METRICS } from '../modules/stats/stat-counters';
import { runAsProcess, type CliIo } from '../adapters/cli-runner';

/**
 * `npm run admin -- <command>`: operator chores from a shell on the server, for when nobody can
 * log in. It reads DATABASE_URL like the server and migrates (under the lock) before it acts.
 */
const USAGE = [
  'usage: npm run admin -- <command>',
  '  reset-password <username>   print a new one-time password (to be changed at the next login)',
  '                              and end every session of that operator',
  "  recount-stats                count the dashboard's counters again from their rows (after a",
  '                              restore, or rows changed in SQL); writers wait while it runs',
].join('\n');

export interface AdminCliParams {
  argv: readonly string[];
  dataSource: DataSource;
  clock: Clock;
  logger: Logger;
  /** The terminal: the new password is printed here, never logged. */
  write: (line: string) => void;
  writeError: (line: string) => void;
  /** For the message: where to log in. */
  publicBaseUrl: string;
  /** scrypt's N for the new password's hash (config.passwordScryptN). */
  passwordScryptN: number;
}

/** Runs one command against an initialized, migrated DataSource; returns the exit code. */
export async function runAdminCommand(params: AdminCliParams): Promise<number> {
  const [command, ...args] = params.argv;
  if (command === 'recount-stats' && args.length === 0) {
    const counters = new StatCountersService({
      dataSource: params.dataSource,
      transactor: new Transactor(params.dataSource),
      clock: params.clock,
    });
    for (const metric of Object.values(STAT_METRICS)) {
      await counters.recount(metric);
      params.write(`counted ${metric}`);
    }
    return 0;
  }
  if (command !== 'reset-password' || args.length !== 1 || args[0] === '') {
    params.writeError(
      command === undefined || command === '--help' || command === '-h'
        ? USAGE
        : `unknown command or arguments: ${params.argv.join(' ')}\n${USAGE}`,
    );
    return 2;
  }
  const { operators } = composeOperators({
    dataSource: params.dataSource,
    clock: params.clock,
    logger: params.logger,
    passwordScryptN: params.passwordScryptN,
  });
  const result = await operators.resetPassword({ username: args[0] });
  if (!result.ok) {
    params.writeError(`no operator named "${args[0]}"`);
    return 1;
  }
  params.write(`New one-time password for ${result.username}: ${result.password}`);
  params.write(
    `Log in at ${params.publicBaseUrl}/admin; it must be changed at the first login. Every session of ${result.username} has ended.`,
  );
  return 0;
}

/** The process: config → DataSource → migrations (under the lock) → the command. */
export async function runAdminCli(params: CliIo): Promise<number> {
  let config;
  try {
    config = loadConfig(params.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    params.writeError(error.message);
    return 2;
  }
  // Notes go to stderr, so stdout carries only what the command prints.
  const logger = createLogger(config.logLevel === 'info' || config.logLevel === 'debug' ? 'warn' : config.logLevel);
  const dataSource = await createDataSource(config.database);
  await dataSource.initialize();
  try {
    await runMigrationsWithLock({ dataSource, holder: `admin-cli:${os.hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`, logger });
    return await runAdminCommand({
      ...params,
      dataSource,
      clock: systemClock,
      logger,
      publicBaseUrl: config.publicBaseUrl,
      passwordScryptN: config.passwordScryptN,
    });
  } finally {
    await dataSource.destroy();
  }
}

if (require.main === module) runAsProcess('admin', runAdminCli);
