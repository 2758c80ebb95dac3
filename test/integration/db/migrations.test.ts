import { createDataSource } from '../../../server/db/data-source';
import { runMigrationsWithLock } from '../../../server/db/migrate';
import { migrationsFor } from '../../../server/db/migrations/migrations';
import { createTestDatabase, DATABASE_KINDS } from '../../support/database';

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
          runMigrationsWithLock({ dataSource: a, holder: 'a' }),
          runMigrationsWithLock({ dataSource: b, holder: 'b' }),
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

  it('takes over a lock left by a crashed instance once it expires', async () => {
    const db = await createTestDatabase(kind);
    try {
      await db.dataSource.query('INSERT INTO flywheel_migration_lock (id, holder, expires_at) VALUES (1, ?, ?)', [
        'crashed',
        Date.now() - 1,
      ]);
      await expect(runMigrationsWithLock({ dataSource: db.dataSource, holder: 'next', waitMs: 2000 })).resolves.toEqual([]);
    } finally {
      await db.destroy();
    }
  });

  it('waits for a live lock and names its holder when it gives up', async () => {
    const db = await createTestDatabase(kind);
    try {
      await db.dataSource.query('INSERT INTO flywheel_migration_lock (id, holder, expires_at) VALUES (1, ?, ?)', [
        'instance-7',
        Date.now() + 60_000,
      ]);
      await expect(runMigrationsWithLock({ dataSource: db.dataSource, holder: 'next', waitMs: 300 })).rejects.toThrow(
        /instance-7/,
      );
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
      const insert = "INSERT INTO tag_rules (name, enabled, priority, interaction_type, match_kind, add_tags, remove_tags, score_points, created_at, updated_at) VALUES (?, 1, 100, 'text', 'any', '[]', '[]', 0, '2026-11-23 00:00:00.000', '2026-11-23 00:00:00.000')";
      await db.dataSource.query(insert, ['重复']);
      await db.dataSource.query(insert, ['重复']);
      await runMigrationsWithLock({ dataSource: db.dataSource, holder: 'test' });
      const rows: { id: number | string; name: string }[] = await db.dataSource.query("SELECT id, name FROM tag_rules WHERE name LIKE '重复%' ORDER BY id");
      expect(rows.map((r) => r.name)).toEqual(['重复', `重复 #${String(rows[1]?.id)}`]);
      await expect(db.dataSource.query(insert, ['重复'])).rejects.toThrow();
    } finally {
      await db.destroy();
    }
  });
});
