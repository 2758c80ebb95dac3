import type { DataSource, MigrationInterface, QueryRunner } from 'typeorm';
import type { DatabaseKind } from '../../../server/db/data-source';
import { migrationsFor, type MigrationClass } from '../../../server/db/migrations/migrations';
import { DATABASE_KINDS } from '../../support/database';
import { walkMigrations } from '../../support/migration-walk';
import { deleteRows, readRows, readSchema, seedRows, type RowsSnapshot, type SchemaSnapshot } from '../../support/schema-snapshot';

/** The process died here: thrown by the wrapped query runner right after a statement returned. */
class SimulatedCrash extends Error {}

/** When the migration under test stops: after its `crashAfter`-th write (0: never). */
interface CrashPlan {
  crashAfter: number;
  writes: number;
}

/** Statements that change nothing: stopping right after one is the same as stopping before it. */
const READ = /^\s*(?:SELECT|SHOW|PRAGMA|WITH|EXPLAIN|DESCRIBE)\b/i;

/** The migration, except that its query runner counts the writes and throws after the planned one. */
function stoppingAfterPlannedWrite(plan: CrashPlan): (migration: MigrationClass) => MigrationClass {
  return (migration) =>
    class implements MigrationInterface {
      readonly inner = new migration();
      readonly name = this.inner.name;

      async up(queryRunner: QueryRunner): Promise<void> {
        plan.writes = 0;
        await this.inner.up(counting(queryRunner, plan));
      }

      async down(queryRunner: QueryRunner): Promise<void> {
        await this.inner.down(queryRunner);
      }
    };
}

/**
 * Every statement the migration runs goes through `query`, its own and those of TypeORM's helpers
 * (hasTable, hasColumn), which the proxy hands the same wrapped runner as `this`.
 */
function counting(runner: QueryRunner, plan: CrashPlan): QueryRunner {
  return new Proxy(runner, {
    get(target, property, receiver) {
      if (property !== 'query') return Reflect.get(target, property, receiver) as unknown;
      return async (...args: Parameters<QueryRunner['query']>): Promise<unknown> => {
        const result: unknown = await target.query(...args);
        if (!READ.test(args[0])) {
          plan.writes += 1;
          if (plan.writes === plan.crashAfter) throw new SimulatedCrash(`stopped after write ${plan.writes}: ${args[0].slice(0, 100)}`);
        }
        return result;
      };
    },
  });
}

async function readState(
  ds: DataSource,
  kind: DatabaseKind,
  schema?: SchemaSnapshot,
): Promise<{ schema: SchemaSnapshot; rows: RowsSnapshot }> {
  const current = schema ?? (await readSchema(ds, kind));
  return { schema: current, rows: await readRows(ds, current, kind) };
}

async function inTransaction(ds: DataSource, work: (q: QueryRunner) => Promise<void>): Promise<void> {
  const q = ds.createQueryRunner();
  try {
    await q.startTransaction();
    await work(q);
    await q.commitTransaction();
  } finally {
    await q.release();
  }
}

/**
 * A migration that stopped halfway runs again at the next start: TypeORM records a migration only
 * once its `up` has returned. MySQL and MariaDB commit every DDL statement on its own, and every
 * statement after the first DDL runs outside the migration's transaction, so what the first run
 * did before it stopped stays; the second run must finish it and change nothing else.
 *
 * For every registered migration in order (read from migrations.ts: a new one is tried without
 * naming it here), on a database holding rows in every table (schema-snapshot.ts seedRows, so
 * that data statements have rows to copy or change): run it cleanly and keep the schema and the
 * rows; then, for every k from 1 to the number of its writes, undo it, seed the same rows, run it
 * through the start-up runner with the k-th write followed by a crash (the runner rolls back what
 * it can, as after a real one), run it again, and expect the schema and rows of the clean run.
 * k reaches the last write: a crash after it and before TypeORM records the migration makes the
 * whole migration run again. Times are frozen, so a `new Date()` in a migration is the same in
 * both runs (a migration takes its time from there, not from the database's NOW()); auto-increment
 * ids are left out of the rows (a rolled-back insert uses its ids up).
 *
 * On SQLite the runner gives each migration one transaction and SQLite's DDL is transactional, so
 * a crash rolls the migration back whole: the test checks that too (schema and rows as before),
 * then the same second run.
 */
describe.each(DATABASE_KINDS)('migrations run again after a crash [%s]', (kind) => {
  beforeAll(() => {
    // Only Date is frozen: the drivers and the migration lock's heartbeat keep real timers.
    jest.useFakeTimers({
      now: new Date('2026-12-01T08:00:00.000Z'),
      doNotFake: [
        'hrtime',
        'nextTick',
        'performance',
        'queueMicrotask',
        'requestAnimationFrame',
        'cancelAnimationFrame',
        'requestIdleCallback',
        'cancelIdleCallback',
        'setImmediate',
        'clearImmediate',
        'setInterval',
        'clearInterval',
        'setTimeout',
        'clearTimeout',
      ],
    });
  });
  afterAll(() => {
    jest.useRealTimers();
  });

  it('every migration, stopped after any of its writes and run again, leaves the schema and rows of a clean run', async () => {
    const plan: CrashPlan = { crashAfter: 0, writes: 0 };
    const tried: { [migration: string]: number } = {};
    await walkMigrations(
      kind,
      async (step) => {
        const state = (schema?: SchemaSnapshot) => readState(step.dataSource, kind, schema);
        const before = await readSchema(step.dataSource, kind);
        await inTransaction(step.dataSource, (q) => seedRows(q, before, kind));
        const seeded = await state(before);
        plan.crashAfter = 0;
        await step.up();
        const writes = plan.writes;
        const clean = await state();

        for (let k = 1; k <= writes; k += 1) {
          await inTransaction(step.dataSource, (q) => deleteRows(q, clean.schema, kind));
          await step.down();
          // Checked by the schema drift test too; without it the comparison below would mean nothing.
          expect({ migration: step.name, undone: await readSchema(step.dataSource, kind) }).toEqual({
            migration: step.name,
            undone: before,
          });
          await inTransaction(step.dataSource, (q) => seedRows(q, before, kind));

          plan.crashAfter = k;
          await expect(step.up()).rejects.toBeInstanceOf(SimulatedCrash);
          plan.crashAfter = 0;
          if (kind === 'sqlite') {
            expect({ migration: step.name, stoppedAfter: k, ...(await state()) }).toEqual({
              migration: step.name,
              stoppedAfter: k,
              ...seeded,
            });
          }
          await step.up();
          expect({ migration: step.name, stoppedAfter: k, ...(await state()) }).toEqual({
            migration: step.name,
            stoppedAfter: k,
            ...clean,
          });
        }
        // Not vacuous: a migration that changed the schema was stopped at least once.
        if (JSON.stringify(clean.schema) !== JSON.stringify(before)) {
          expect({ migration: step.name, writes }).not.toEqual({ migration: step.name, writes: 0 });
        }
        tried[step.name] = writes;
        await inTransaction(step.dataSource, (q) => deleteRows(q, clean.schema, kind));
      },
      { wrap: stoppingAfterPlannedWrite(plan) },
    );

    expect(Object.keys(tried)).toEqual(migrationsFor(kind).map((migration) => new migration().name));
  }, 120_000);
});
