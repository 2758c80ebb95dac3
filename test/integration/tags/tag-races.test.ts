import type { EntityManager, QueryRunner } from 'typeorm';
import { ContactTag } from '../../../entities/contact-tag.entity';
import { Tag } from '../../../entities/tag.entity';
import { TagGroup } from '../../../entities/tag-group.entity';
import { ManualClock } from '../../../server/adapters/clock';
import { createLogger } from '../../../server/adapters/logger';
import { Transactor } from '../../../server/db/transaction';
import { ContactsService } from '../../../server/modules/contacts/contacts.service';
import { TagSyncService } from '../../../server/modules/tag-sync/tag-sync.service';
import { ContactTagsService } from '../../../server/modules/tags/contact-tags.service';
import { TaskQueue } from '../../../server/modules/tasks/task-queue.service';
import { createTestDatabase, DATABASE_KINDS, untilSomeoneWaitsForALock, type TestDatabase } from '../../support/database';

/**
 * Two transactions creating or applying the same tag, interleaved on purpose: the first is held
 * open after its writes until the second is seen waiting for the unique key. MariaDB only:
 * SQLite's single writer never lets two transactions overlap.
 */
const mysqlOnly = DATABASE_KINDS.includes('mysql') ? describe : describe.skip;
mysqlOnly('tags: the same tag created or applied twice at once [mysql]', () => {
  let db: TestDatabase;
  let tags: ContactTagsService;
  const clock = new ManualClock();
  const contacts = new ContactsService({ clock });
  beforeAll(async () => {
    db = await createTestDatabase('mysql');
    const logger = createLogger('silent');
    const queue = new TaskQueue({ dataSource: db.dataSource, clock, holder: 'tag-races', logger });
    tags = new ContactTagsService({
      clock,
      tagSync: new TagSyncService({ dataSource: db.dataSource, queue, officialAccount: null, wecom: null, logger }),
    });
  });
  afterAll(async () => {
    await db.destroy();
  });
  beforeEach(async () => {
    await db.reset();
  });

  const tx = () => new Transactor(db.dataSource);

  /** Runs `first` in a transaction held open until `second`, started meanwhile, waits for its lock; returns what `second` gave. */
  const interleave = async <T>(first: (m: EntityManager) => Promise<unknown>, second: () => Promise<T>): Promise<T> => {
    const runner: QueryRunner = db.dataSource.createQueryRunner();
    await runner.connect();
    await runner.startTransaction();
    let committed = false;
    try {
      await first(runner.manager);
      const waiting = second();
      await untilSomeoneWaitsForALock(db.dataSource);
      await runner.commitTransaction();
      committed = true;
      return await waiting;
    } finally {
      if (!committed) await runner.rollbackTransaction();
      await runner.release();
    }
  };

  it('a rule creating a tag another transaction is creating gets that tag, in its own transaction, without failing', async () => {
    const ref = { group: '渠道', name: 'expo2026' };
    // One try only: the second transaction must not need a retry to see the first one's tag.
    const second = await interleave(
      (m) => tags.ensureTag(m, ref),
      () => tx().run((m) => tags.ensureTag(m, ref)),
    );
    const stored = await db.dataSource.manager.find(Tag);
    expect(stored).toHaveLength(1);
    expect(second).toMatchObject({ id: stored[0].id, name: 'expo2026' });
    expect(await db.dataSource.manager.count(TagGroup)).toBe(1);
  });

  it('a tag applied to a contact while another transaction applies it is held once, and neither fails', async () => {
    const contactId = (await tx().run((m) => contacts.resolveContact(m, { kind: 'oa_openid', appId: 'wxapp', value: 'o_twice' })))
      .contactId;
    const tag = await tx().run((m) => tags.ensureTag(m, { group: '兴趣', name: 'VIP' }));
    const apply = (m: EntityManager) =>
      tags.applyTags(m, { contactId, add: [tag], remove: [], actor: { kind: 'system' }, cause: 'manual' });
    const second = await interleave(apply, () => tx().run(apply));
    expect(second.added).toEqual([]);
    expect(await db.dataSource.manager.countBy(ContactTag, { contactId })).toBe(1);
  });
});
