import { checkMysqlStep } from '../../../scripts/migration-steps';

const written = (query: string) => {
  const step = checkMysqlStep(query);
  return step.unchecked ? 'unchecked' : step.when === null ? step.query : `if (${step.when}) ${step.query}`;
};

// Statements as TypeORM 1.1's MySQL schema builder writes them.
describe('the check the generator writes before each MySQL statement', () => {
  it('creates and drops tables with IF [NOT] EXISTS', () => {
    expect(written('CREATE TABLE `notes` (`id` int NOT NULL AUTO_INCREMENT, PRIMARY KEY (`id`)) ENGINE=InnoDB')).toBe(
      'CREATE TABLE IF NOT EXISTS `notes` (`id` int NOT NULL AUTO_INCREMENT, PRIMARY KEY (`id`)) ENGINE=InnoDB',
    );
    expect(written('DROP TABLE `notes`')).toBe('DROP TABLE IF EXISTS `notes`');
  });

  it('adds or drops a column or an index only when it is missing or there', () => {
    expect(written('ALTER TABLE `job_cursors` ADD `owner` varchar(32) NULL')).toBe(
      "if (!(await queryRunner.hasColumn('job_cursors', 'owner'))) ALTER TABLE `job_cursors` ADD `owner` varchar(32) NULL",
    );
    expect(written('ALTER TABLE `job_cursors` DROP COLUMN `owner`')).toBe(
      "if (await queryRunner.hasColumn('job_cursors', 'owner')) ALTER TABLE `job_cursors` DROP COLUMN `owner`",
    );
    const create = checkMysqlStep('CREATE UNIQUE INDEX `IDX_job_cursors_owner` ON `job_cursors` (`owner`)');
    expect(create).toEqual({
      query: 'CREATE UNIQUE INDEX `IDX_job_cursors_owner` ON `job_cursors` (`owner`)',
      when: "!(await hasIndex(queryRunner, 'job_cursors', 'IDX_job_cursors_owner'))",
      usesHasIndex: true,
      unchecked: false,
    });
    expect(written('DROP INDEX `IDX_job_cursors_owner` ON `job_cursors`')).toBe(
      "if (await hasIndex(queryRunner, 'job_cursors', 'IDX_job_cursors_owner')) DROP INDEX `IDX_job_cursors_owner` ON `job_cursors`",
    );
  });

  it('runs a MODIFY again as it is (the same definition twice changes nothing), and a rename only from the old name', () => {
    expect(written('ALTER TABLE `callback_inbox` MODIFY `payload` mediumtext NOT NULL')).toBe(
      'ALTER TABLE `callback_inbox` MODIFY `payload` mediumtext NOT NULL',
    );
    expect(written('ALTER TABLE `tasks` CHANGE `subject` `topic` varchar(64) NULL')).toBe(
      "if (await queryRunner.hasColumn('tasks', 'subject')) ALTER TABLE `tasks` CHANGE `subject` `topic` varchar(64) NULL",
    );
    expect(written('RENAME TABLE `interaction_work` TO `reaction_work`')).toBe(
      "if ((await queryRunner.hasTable('interaction_work')) && !(await queryRunner.hasTable('reaction_work'))) RENAME TABLE `interaction_work` TO `reaction_work`",
    );
  });

  it('says when it knows no check, rather than guessing', () => {
    expect(written('ALTER TABLE `contact_tags` ADD CONSTRAINT `FK_1` FOREIGN KEY (`tag_id`) REFERENCES `tags`(`id`)')).toBe('unchecked');
    expect(written("UPDATE `tasks` SET `status` = 'pending'")).toBe('unchecked');
  });
});
