import { Interaction } from '../../../entities/interaction.entity';
import { Task } from '../../../entities/task.entity';
import { createLogger } from '../../../server/adapters/logger';
import { createDataSource } from '../../../server/db/data-source';
import { runMigrationsWithLock, withMigrationLock } from '../../../server/db/migrate';
import { migrationsFor } from '../../../server/db/migrations/migrations';
import { createTestDatabase, DATABASE_KINDS, type TestDatabase } from '../../support/database';
import { expireLeases, setLeaseDeadlines } from '../../support/leases';

const logger = createLogger('silent');

describe.each(DATABASE_KINDS)('migrations [%s]', (kind) => {
  it('two instances starting together migrate once, and both come up', async () => {
    const first = await createTestDatabase(kind);
    try {
      // Roll back everything createTestDatabase applied, then race two fresh DataSources.
      const all = migrationsFor(kind).map((M) => new M().name ?? M.name);
      for (let i = 0; i < all.length; i += 1) await first.dataSource.undoLastMigration();
      const a = await createDataSource(first.config);
      const b = await createDataSource(first.config);
      await Promise.all([a.initialize(), b.initialize()]);
      try {
        const [appliedA, appliedB] = await Promise.all([
          runMigrationsWithLock({ dataSource: a, holder: 'a', logger }),
          runMigrationsWithLock({ dataSource: b, holder: 'b', logger }),
        ]);
        expect([...appliedA, ...appliedB].sort()).toEqual([...all].sort());
        const rows: { name: string }[] = await a.query('SELECT name FROM migrations');
        expect(rows).toHaveLength(all.length);
        const [{ r }]: { r: number | string }[] = await a.query('SELECT COUNT(*) AS r FROM tag_rules');
        expect(Number(r)).toBe(8);
        const [{ n }]: { n: number | string }[] = await a.query('SELECT COUNT(*) AS n FROM contacts');
        expect(Number(n)).toBe(0);
      } finally {
        await Promise.all([a.destroy(), b.destroy()]);
      }
    } finally {
      await first.destroy();
    }
  });

  const lockHolder = async (db: TestDatabase): Promise<string | null> => {
    const rows: { lease_holder: string | null }[] = await db.dataSource.query(
      'SELECT lease_holder FROM flywheel_migration_lease WHERE id = 1',
    );
    return rows[0]?.lease_holder ?? null;
  };
  const lockDeadline = async (db: TestDatabase): Promise<string> => {
    const rows: { lease_until: Date | string }[] = await db.dataSource.query(
      'SELECT lease_until FROM flywheel_migration_lease WHERE id = 1',
    );
    const until = rows[0]?.lease_until;
    return until instanceof Date ? until.toISOString() : String(until);
  };
  /** Resolves once `check` holds, polling; fails the test after `ms` (a condition, not a sleep that hopes). */
  const until = async (check: () => Promise<boolean>, ms = 10_000): Promise<void> => {
    const deadline = Date.now() + ms;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error('the condition never held');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  // Lease deadlines are on the database's clock, which a test cannot move: it moves the deadline.
  const endLock = (db: TestDatabase) => expireLeases(db.dataSource, 'flywheel_migration_lease');

  it("waits while a crashed holder's lock is live and takes it over once it has ended", async () => {
    const db = await createTestDatabase(kind);
    try {
      // A migrator that died a moment ago: its lease has a minute left, and nobody renews it.
      await db.dataSource.query('UPDATE flywheel_migration_lease SET lease_holder = ? WHERE id = 1', ['crashed#0']);
      await setLeaseDeadlines({ dataSource: db.dataSource, table: 'flywheel_migration_lease', ms: 60_000 });
      let settled = false;
      const next = runMigrationsWithLock({ dataSource: db.dataSource, holder: 'next', waitMs: 30_000, logger }).finally(() => {
        settled = true;
      });
      // It polls every 100 ms: after several polls it is still waiting, and the lock still the dead one's.
      await new Promise((resolve) => setTimeout(resolve, 350));
      expect(settled).toBe(false);
      expect(await lockHolder(db)).toBe('crashed#0');
      await endLock(db);
      await expect(next).resolves.toEqual([]);
      expect(await lockHolder(db)).toBeNull();
    } finally {
      await db.destroy();
    }
  });

  it('keeps the lock of a live holder by its heartbeat, and another instance does not get in', async () => {
    const db = await createTestDatabase(kind);
    const other = await createDataSource(db.config);
    await other.initialize();
    try {
      let waiterError: unknown = null;
      const result = await withMigrationLock(
        { dataSource: db.dataSource, holder: 'long', lockTtlMs: 30_000, heartbeatMs: 50, logger },
        async () => {
          // The heartbeat moves the deadline forward while the migration runs.
          const first = await lockDeadline(db);
          await until(async () => (await lockDeadline(db)) > first);
          // A second instance starting meanwhile waits, and does not get in.
          waiterError = await runMigrationsWithLock({ dataSource: other, holder: 'second', waitMs: 300, logger }).then(
            () => null,
            (error: unknown) => error,
          );
          expect(await lockHolder(db)).toMatch(/^long#/);
          return 'migrated';
        },
      );
      expect(result).toBe('migrated');
      expect(String(waiterError)).toMatch(/Timed out waiting for the migration lock held by long#/);
      expect(await lockHolder(db)).toBeNull();
    } finally {
      await other.destroy();
      await db.destroy();
    }
  });

  it('a holder that stopped renewing loses the lock once its lease has ended', async () => {
    const db = await createTestDatabase(kind);
    try {
      let taken: string[] | null = null;
      const outcome = withMigrationLock({ dataSource: db.dataSource, holder: 'stalled', heartbeatMs: 60_000, logger }, async () => {
        // Stalled past its lease (no heartbeat in time): the next instance takes the lock over.
        await endLock(db);
        taken = await runMigrationsWithLock({ dataSource: db.dataSource, holder: 'next', waitMs: 5_000, logger });
        return 'done';
      });
      await expect(outcome).resolves.toBe('done');
      expect(taken).toEqual([]);
    } finally {
      await db.destroy();
    }
  });

  it('waits for a live lock of the previous shape (an older instance migrating) and names its holder', async () => {
    const db = await createTestDatabase(kind);
    try {
      await db.dataSource.query(
        'CREATE TABLE IF NOT EXISTS flywheel_migration_lock (id INT PRIMARY KEY, holder VARCHAR(64) NOT NULL, expires_at BIGINT NOT NULL)',
      );
      await db.dataSource.query('INSERT INTO flywheel_migration_lock (id, holder, expires_at) VALUES (1, ?, ?)', [
        'instance-7',
        Date.now() + 60_000,
      ]);
      await expect(runMigrationsWithLock({ dataSource: db.dataSource, holder: 'next', waitMs: 300, logger })).rejects.toThrow(/instance-7/);
      await db.dataSource.query('UPDATE flywheel_migration_lock SET expires_at = ? WHERE id = 1', [Date.now() - 1]);
      await expect(runMigrationsWithLock({ dataSource: db.dataSource, holder: 'next', waitMs: 2000, logger })).resolves.toEqual([]);
    } finally {
      await db.destroy();
    }
  });

  it('turns tasks an older version left running back to pending, keeping their lease, counting failures only', async () => {
    const db = await createTestDatabase(kind);
    try {
      // Undo back to before the migration that turns running tasks back to pending.
      const names = migrationsFor(kind).map((M) => new M().name ?? M.name);
      const undo = names.length - names.indexOf('TasksClaimedRowsStayPending1795600300000');
      for (let i = 0; i < undo; i += 1) await db.dataSource.undoLastMigration();
      const until = '2026-11-23 00:01:00.000';
      await db.dataSource.query(
        "INSERT INTO tasks (kind, dedupe_key, payload, status, attempts, run_at, lease_holder, lease_until, created_at, updated_at) VALUES ('k', 'running-1', '{}', 'running', 2, '2026-11-23 00:00:00.000', 'old-instance', ?, '2026-11-23 00:00:00.000', '2026-11-23 00:00:00.000')",
        [until],
      );
      await runMigrationsWithLock({ dataSource: db.dataSource, holder: 'test', logger });
      const [row] = await db.dataSource.getRepository(Task).find();
      expect(row).toMatchObject({
        status: 'pending',
        attempts: 1,
        leaseHolder: 'old-instance',
        leaseUntil: new Date('2026-11-23T00:01:00.000Z'),
      });
    } finally {
      await db.destroy();
    }
  });

  it("gives the menu tools' pushes recorded as unknown their types, and leaves what it cannot read alone", async () => {
    const db = await createTestDatabase(kind);
    try {
      const names = migrationsFor(kind).map((M) => new M().name ?? M.name);
      const undo = names.length - names.indexOf('MenuEventsTyped1795600800000');
      for (let i = 0; i < undo; i += 1) await db.dataSource.undoLastMigration();
      // The details exactly as the mapping before this release wrote them (collectFields).
      const old = {
        scan: {
          EventKey: '6',
          ScanCodeInfo: JSON.stringify({ ScanType: 'qrcode', ScanResult: 'booth-42' }),
          openid: 'o1',
          msgType: 'event',
          event: 'scancode_waitmsg',
        },
        pics: {
          EventKey: 'photo',
          SendPicsInfo: JSON.stringify({ Count: '2', PicList: { item: [{ PicMd5Sum: 'a' }, { PicMd5Sum: 'b' }] } }),
          openid: 'o1',
          msgType: 'event',
          event: 'pic_weixin',
        },
        location: {
          EventKey: 'where',
          SendLocationInfo: JSON.stringify({ Location_X: '23', Location_Y: '113', Scale: '15', Label: '广州', Poiname: '' }),
          openid: 'o1',
          msgType: 'event',
          event: 'location_select',
          invalidUtf8: true,
        },
        miniprogram: { EventKey: 'pages/index/index', MenuId: '42', openid: 'o1', msgType: 'event', event: 'view_miniprogram' },
        cut: {
          EventKey: '6',
          ScanCodeInfo: '{"ScanType":"qrcode","ScanRes',
          openid: 'o1',
          msgType: 'event',
          event: 'scancode_push',
          truncated: true,
        },
        other: { openid: 'o1', msgType: 'event', event: 'some_future_event', Foo: 'bar' },
      };
      for (const [key, detail] of Object.entries(old)) {
        await db.dataSource.query(
          "INSERT INTO interactions (contact_id, type, channel, occurred_at, detail, dedupe_key, created_at) VALUES (NULL, 'unknown', 'oa', '2026-11-23 00:00:00.000', ?, ?, '2026-11-23 00:00:00.000')",
          [JSON.stringify(detail), `oa:test:${key}`],
        );
      }
      await runMigrationsWithLock({ dataSource: db.dataSource, holder: 'test', logger });
      const rows = await db.dataSource.getRepository(Interaction).find({ order: { id: 'ASC' } });
      const byKey = Object.fromEntries(rows.map((row) => [row.dedupeKey.slice('oa:test:'.length), { type: row.type, detail: row.detail }]));
      expect(byKey).toEqual({
        scan: { type: 'menu_scan', detail: { openid: 'o1', menuKey: '6', scanType: 'qrcode', scanResult: 'booth-42', waitMsg: true } },
        pics: { type: 'menu_pics', detail: { openid: 'o1', menuKey: 'photo', source: 'weixin', count: 2, picMd5Sums: ['a', 'b'] } },
        location: {
          type: 'menu_location',
          detail: {
            openid: 'o1',
            menuKey: 'where',
            invalidUtf8: true,
            latitude: 23,
            longitude: 113,
            scale: 15,
            label: '广州',
            poiname: '',
          },
        },
        miniprogram: {
          type: 'view_miniprogram',
          detail: { openid: 'o1', menuKey: 'pages/index/index', pagePath: 'pages/index/index', menuId: '42' },
        },
        cut: { type: 'unknown', detail: old.cut },
        other: { type: 'unknown', detail: old.other },
      });
    } finally {
      await db.destroy();
    }
  });

  it('gives duplicate rule names a suffix before making names unique', async () => {
    const db = await createTestDatabase(kind);
    try {
      // Undo back to before the migration that makes rule names unique.
      const names = migrationsFor(kind).map((M) => new M().name ?? M.name);
      const undo = names.length - names.indexOf('TagRuleNamesUnique1795500200000');
      for (let i = 0; i < undo; i += 1) await db.dataSource.undoLastMigration();
      const insert =
        "INSERT INTO tag_rules (name, enabled, priority, interaction_type, match_kind, add_tags, remove_tags, score_points, created_at, updated_at) VALUES (?, 1, 100, 'text', 'any', '[]', '[]', 0, '2026-11-23 00:00:00.000', '2026-11-23 00:00:00.000')";
      await db.dataSource.query(insert, ['重复']);
      await db.dataSource.query(insert, ['重复']);
      await runMigrationsWithLock({ dataSource: db.dataSource, holder: 'test', logger });
      const rows: { id: number | string; name: string }[] = await db.dataSource.query(
        "SELECT id, name FROM tag_rules WHERE name LIKE '重复%' ORDER BY id",
      );
      expect(rows.map((r) => r.name)).toEqual(['重复', `重复 #${String(rows[1]?.id)}`]);
      await expect(db.dataSource.query(insert, ['重复'])).rejects.toThrow();
    } finally {
      await db.destroy();
    }
  });
});
