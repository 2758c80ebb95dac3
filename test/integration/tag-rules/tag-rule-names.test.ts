import { TagRule } from '../../../entities/tag-rule.entity';
import { ManualClock } from '../../../server/adapters/clock';
import { AuditService } from '../../../server/modules/audit/audit.service';
import { TagRulesService } from '../../../server/modules/tag-rules/tag-rules.service';
import { describeEachDatabase } from '../../support/database';

describeEachDatabase('tag rules: names are unique', (db) => {
  const actor = { operatorId: null, ip: null };
  const rule = {
    name: '关键词：报名',
    interactionType: 'text',
    matchKind: 'keyword_contains' as const,
    matchValue: '报名',
    addTags: [],
    removeTags: [],
    replyText: '请点击菜单报名',
  };

  it('two saves of the same name at once make one rule; the other is told the name is taken', async () => {
    const clock = new ManualClock();
    const rules = new TagRulesService({
      dataSource: db().dataSource,
      clock,
      audit: new AuditService({ dataSource: db().dataSource, clock }),
    });
    const results = await Promise.all([rules.createTagRule({ rule, actor }), rules.createTagRule({ rule, actor })]);
    expect(results.map((r) => (r.ok ? 'ok' : r.reason)).sort()).toEqual(['duplicate_name', 'ok']);
    expect(await db().dataSource.manager.countBy(TagRule, { name: rule.name })).toBe(1);
  });

  it('the database refuses a second rule with a taken name, whoever writes it', async () => {
    const now = new Date();
    const row = { ...rule, enabled: true, priority: 100, scorePoints: 0, replyNews: null, createdAt: now, updatedAt: now };
    await db().dataSource.manager.insert(TagRule, row);
    await expect(db().dataSource.manager.insert(TagRule, row)).rejects.toThrow();
  });
});
