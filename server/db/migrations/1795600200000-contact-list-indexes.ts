import type { MigrationInterface, QueryRunner } from 'typeorm';
import { isMysqlRunner } from './is-mysql';
import { hasIndex } from './schema-checks';

/**
 * Indexes measured with bench/contacts.bench.ts on 1M contacts and 5M interactions (docs/BENCHMARKS.md):
 * - contact_tags (tag_id, contact_id) replaces (tag_id): a tag-filtered list page walks the tag's
 *   contacts in id order from the index alone, instead of a row lookup per tagged contact and a sort;
 * - interactions (type, occurred_at, contact_id) replaces (type, occurred_at): "contacts who did T
 *   since S" counts distinct contacts from the index alone, instead of one row lookup per interaction.
 * Only indexes change; no row is touched. The new index is built before the old one goes, so the
 * queries (and MySQL's foreign-key checks) always have one. On MySQL each ALTER adds the new
 * index and drops the old one at once: the new one there means the step is done (schema-checks.ts).
 */
export class ContactListIndexes1795600200000 implements MigrationInterface {
  name = 'ContactListIndexes1795600200000';

  async up(q: QueryRunner): Promise<void> {
    if (isMysqlRunner(q)) {
      if (!(await hasIndex(q, 'contact_tags', 'IDX_contact_tags_tag_contact'))) {
        await q.query('ALTER TABLE `contact_tags` ADD INDEX `IDX_contact_tags_tag_contact` (`tag_id`, `contact_id`), DROP INDEX `IDX_ca1290b9eb235a665c256a844a`');
      }
      if (!(await hasIndex(q, 'interactions', 'IDX_interactions_type_occurred_contact'))) {
        await q.query('ALTER TABLE `interactions` ADD INDEX `IDX_interactions_type_occurred_contact` (`type`, `occurred_at`, `contact_id`), DROP INDEX `IDX_interactions_type_occurred`');
      }
    } else {
      await q.query('CREATE INDEX "IDX_contact_tags_tag_contact" ON "contact_tags" ("tag_id", "contact_id")');
      await q.query('DROP INDEX "IDX_ca1290b9eb235a665c256a844a"');
      await q.query('CREATE INDEX "IDX_interactions_type_occurred_contact" ON "interactions" ("type", "occurred_at", "contact_id")');
      await q.query('DROP INDEX "IDX_interactions_type_occurred"');
    }
  }

  async down(q: QueryRunner): Promise<void> {
    if (isMysqlRunner(q)) {
      await q.query('ALTER TABLE `interactions` ADD INDEX `IDX_interactions_type_occurred` (`type`, `occurred_at`), DROP INDEX `IDX_interactions_type_occurred_contact`');
      await q.query('ALTER TABLE `contact_tags` ADD INDEX `IDX_ca1290b9eb235a665c256a844a` (`tag_id`), DROP INDEX `IDX_contact_tags_tag_contact`');
    } else {
      await q.query('CREATE INDEX "IDX_interactions_type_occurred" ON "interactions" ("type", "occurred_at")');
      await q.query('DROP INDEX "IDX_interactions_type_occurred_contact"');
      await q.query('CREATE INDEX "IDX_ca1290b9eb235a665c256a844a" ON "contact_tags" ("tag_id")');
      await q.query('DROP INDEX "IDX_contact_tags_tag_contact"');
    }
  }
}
