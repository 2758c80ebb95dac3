import fs from 'node:fs';
import path from 'node:path';
import { MIGRATIONS, migrationsFor } from '../../../server/db/migrations/migrations';

const DIR = path.join(__dirname, '..', '..', '..', 'server', 'db', 'migrations');

/** `1795600000000-foundations-schema.ts` → `FoundationsSchema1795600000000`, the class the house rule names. */
function classNameOf(file: string): string {
  const [stamp, ...words] = file.replace(/\.ts$/, '').split('-');
  return `${words.map((word) => word[0].toUpperCase() + word.slice(1)).join('')}${stamp}`;
}

describe('migration registry', () => {
  it('lists every shared migration file exactly once, in timestamp order', () => {
    const files = fs
      .readdirSync(DIR)
      .filter((file) => /^\d{13}-[a-z0-9-]+\.ts$/.test(file))
      .sort();
    expect(MIGRATIONS.map((migration) => migration.name)).toEqual(files.map(classNameOf));
  });

  it('gives each database its initial schema first, then the same shared list', () => {
    for (const kind of ['sqlite', 'mysql'] as const) {
      const stamps = migrationsFor(kind).map((migration) => Number(/\d{13}$/.exec(migration.name)?.[0]));
      expect(stamps).toEqual([...stamps].sort((a, b) => a - b));
      expect(new Set(stamps).size).toBe(stamps.length);
      expect(migrationsFor(kind).slice(1)).toEqual(MIGRATIONS);
    }
    expect(fs.readdirSync(path.join(DIR, 'mysql'))).toEqual(['1795436218746-init.ts']);
    expect(fs.readdirSync(path.join(DIR, 'sqlite'))).toEqual(['1795436218746-init.ts']);
  });
});
