import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The rules a new installation starts with. A data migration, so it runs once per database,
 * under the migration lock, and never again after an operator edits or deletes the rules.
 * Plain SQL values (no entities): later entity changes cannot break an old migration.
 */
const DEFAULT_RULES = [
  { name: '扫码关注渠道标签', interaction_type: 'subscribe', match_kind: 'scene', match_value: '*', add: [{ group: '渠道', name: '{scene}' }], remove: [], points: 5 },
  { name: '关注', interaction_type: 'subscribe', match_kind: 'any', match_value: null, add: [{ group: '生命周期', name: '已关注' }], remove: [{ group: '生命周期', name: '已取关' }], points: 0 },
  { name: '取消关注', interaction_type: 'unsubscribe', match_kind: 'any', match_value: null, add: [{ group: '生命周期', name: '已取关' }], remove: [{ group: '生命周期', name: '已关注' }], points: 0 },
  { name: '已关注用户扫码', interaction_type: 'scan', match_kind: 'scene', match_value: '*', add: [{ group: '渠道', name: '{scene}' }], remove: [], points: 2 },
  { name: '企微渠道活码', interaction_type: 'add_external_contact', match_kind: 'scene', match_value: '*', add: [{ group: '渠道', name: '{scene}' }], remove: [], points: 5 },
  { name: '添加企微好友', interaction_type: 'add_external_contact', match_kind: 'any', match_value: null, add: [{ group: '生命周期', name: '企微好友' }], remove: [], points: 10 },
  { name: '发消息互动', interaction_type: 'text', match_kind: 'any', match_value: null, add: [], remove: [], points: 1 },
  { name: '点击菜单', interaction_type: 'click', match_kind: 'any', match_value: null, add: [], remove: [], points: 1 },
];

export class SeedDefaultRules1795436300000 implements MigrationInterface {
  name = 'SeedDefaultRules1795436300000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const now = new Date().toISOString().replace('T', ' ').replace('Z', '');
    for (const [index, rule] of DEFAULT_RULES.entries()) {
      await queryRunner.query(
        `INSERT INTO tag_rules (name, enabled, priority, interaction_type, match_kind, match_value, add_tags, remove_tags, score_points, reply_text, reply_news, created_at, updated_at)
         VALUES (?, 1, ?, ?, ?, ?, ?, ?, ?, NULL, NULL, ?, ?)`,
        [rule.name, 100 + index, rule.interaction_type, rule.match_kind, rule.match_value, JSON.stringify(rule.add), JSON.stringify(rule.remove), rule.points, now, now],
      );
    }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DELETE FROM tag_rules WHERE name IN (${DEFAULT_RULES.map(() => '?').join(',')})`, DEFAULT_RULES.map((r) => r.name));
  }
}
