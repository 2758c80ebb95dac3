import type { MigrationInterface, QueryRunner } from 'typeorm';
import { isMysqlRunner } from './is-mysql';
import { hasIndex } from './schema-checks';

/**
 * Rule names become unique (operators tell rules apart by name; the service checked, but two
 * saves at once could both pass). Names already taken twice keep their first holder; the others
 * get their id appended, so the index can be built on any existing data. Run again after the index
 * was built, the renames find nothing to do (schema-checks.ts).
 */
export class TagRuleNamesUnique1795500200000 implements MigrationInterface {
  name = 'TagRuleNamesUnique1795500200000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const rows = (await queryRunner.query('SELECT id, name FROM tag_rules ORDER BY id')) as { id: number | string; name: string }[];
    const taken = new Set<string>();
    for (const row of rows) {
      if (!taken.has(row.name)) {
        taken.add(row.name);
        continue;
      }
      const suffix = ` #${String(row.id)}`;
      const renamed = `${row.name.slice(0, 64 - suffix.length)}${suffix}`;
      taken.add(renamed);
      await queryRunner.query('UPDATE tag_rules SET name = ? WHERE id = ?', [renamed, row.id]);
    }
    if (!(await hasIndex(queryRunner, 'tag_rules', 'UQ_tag_rules_name'))) await queryRunner.query('CREATE UNIQUE INDEX UQ_tag_rules_name ON tag_rules (name)');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    // MySQL names the table in DROP INDEX; SQLite does not accept it.
    const onTable = isMysqlRunner(queryRunner) ? ' ON tag_rules' : '';
    if (await hasIndex(queryRunner, 'tag_rules', 'UQ_tag_rules_name')) await queryRunner.query(`DROP INDEX UQ_tag_rules_name${onTable}`);
  }
}
