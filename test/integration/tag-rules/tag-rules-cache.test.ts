import type { DataSource } from 'typeorm';
import { ManualClock } from '../../../server/adapters/clock';
import { AuditService } from '../../../server/modules/audit/audit.service';
import { TagRulesEngine } from '../../../server/modules/tag-rules/tag-rules.engine';
import { TagRulesService } from '../../../server/modules/tag-rules/tag-rules.service';
import type { ContactTagsService } from '../../../server/modules/tags/contact-tags.service';
import { describeEachDatabase } from '../../support/database';

describeEachDatabase('tag rules: the callback path reads them from a short cache', (db) => {
  const actor = { operatorId: null, ip: null };
  const input = { type: 'text', detail: { content: '营业时间' } };
  const hours = {
    name: 'hours',
    interactionType: 'text',
    matchKind: 'keyword_exact' as const,
    matchValue: '营业时间',
    addTags: [],
    removeTags: [],
    replyText: '9:00-18:00',
  };

  function build(clock: ManualClock) {
    const dataSource = db().dataSource;
    // findReply never touches tags; the engine only needs ContactTagsService for applyRules.
    const engine = new TagRulesEngine({ dataSource, contactTags: {} as ContactTagsService, clock, cacheMs: 2_000 });
    const rules = new TagRulesService({
      dataSource,
      clock,
      audit: new AuditService({ dataSource, clock }),
      onRulesChanged: () => engine.invalidate(),
    });
    return { engine, rules };
  }

  it('a change made through this instance shows at once', async () => {
    const { engine, rules } = build(new ManualClock());
    expect(await engine.findReply(input)).toBeNull();
    await rules.createTagRule({ rule: hours, actor });
    expect(await engine.findReply(input)).toEqual({ kind: 'text', content: '9:00-18:00' });
  });

  it('a change made by another instance shows once the cache is 2 s old', async () => {
    const clock = new ManualClock();
    const here = build(clock);
    const elsewhere = build(clock);
    expect(await here.engine.findReply(input)).toBeNull();
    await elsewhere.rules.createTagRule({ rule: hours, actor });
    expect(await here.engine.findReply(input)).toBeNull();
    clock.advance(2_001);
    expect(await here.engine.findReply(input)).toEqual({ kind: 'text', content: '9:00-18:00' });
  });

  it('callbacks arriving together when the cache has run out share one read of the rules', async () => {
    const clock = new ManualClock();
    const { engine, rules } = build(clock);
    await rules.createTagRule({ rule: hours, actor });
    const reads = recordingRuleReads(db().dataSource);
    try {
      const replies = await Promise.all(Array.from({ length: 20 }, () => engine.findReply(input)));
      expect(replies.every((r) => r?.kind === 'text')).toBe(true);
      clock.advance(2_001);
      await Promise.all(Array.from({ length: 20 }, () => engine.findReply(input)));
      expect(reads.count).toBe(2);
    } finally {
      reads.stop();
    }
  });
});

/** Counts the SELECTs of tag_rules sent through this DataSource's query runners. */
function recordingRuleReads(dataSource: DataSource): { count: number; stop: () => void } {
  const recorder = { count: 0, stop: () => undefined as void };
  const logger = dataSource.logger;
  const original = logger.logQuery.bind(logger);
  logger.logQuery = (query, parameters, runner) => {
    if (/^SELECT .* FROM [`"]?tag_rules/is.test(query)) recorder.count += 1;
    original(query, parameters, runner);
  };
  recorder.stop = () => {
    logger.logQuery = original;
  };
  return recorder;
}
