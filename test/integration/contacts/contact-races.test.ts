import type { EntityManager, QueryRunner } from 'typeorm';
import { Contact } from '../../../entities/contact.entity';
import { ContactIdentity } from '../../../entities/contact-identity.entity';
import { ManualClock } from '../../../server/adapters/clock';
import { Transactor } from '../../../server/db/transaction';
import { ContactsService } from '../../../server/modules/contacts/contacts.service';
import { createTestDatabase, DATABASE_KINDS, untilSomeoneWaitsForALock, type TestDatabase } from '../../support/database';

/**
 * Two transactions on one contact, interleaved on purpose: the first is held open after its
 * writes, the second starts and is seen waiting for its lock, then the first commits. MariaDB
 * only: SQLite's single writer never lets two transactions overlap.
 */
const mysqlOnly = DATABASE_KINDS.includes('mysql') ? describe : describe.skip;
mysqlOnly('contacts: two writers at once [mysql]', () => {
  let db: TestDatabase;
  const clock = new ManualClock();
  const contacts = new ContactsService({ clock });
  beforeAll(async () => {
    db = await createTestDatabase('mysql');
  });
  afterAll(async () => {
    await db.destroy();
  });
  beforeEach(async () => {
    await db.reset();
  });

  const tx = () => new Transactor(db.dataSource);
  const newContact = async (value: string) =>
    (await tx().run((m) => contacts.resolveContact(m, { kind: 'oa_openid', appId: 'wxapp', value }))).contactId;
  const contact = (id: number) => db.dataSource.manager.findOneByOrFail(Contact, { id });

  /** Runs `first` in a transaction held open until `second`, started meanwhile, waits for its lock. */
  const interleave = async (first: (m: EntityManager) => Promise<unknown>, second: () => Promise<unknown>) => {
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
      await waiting;
    } finally {
      if (!committed) await runner.rollbackTransaction();
      await runner.release();
    }
  };

  it('an identity linked to a contact while it is being merged lands on the survivor', async () => {
    const older = await newContact('o_older');
    const newer = await newContact('o_newer');
    await interleave(
      (m) => contacts.mergeContacts(m, older, newer),
      () => tx().runRetrying((m) => contacts.linkIdentity(m, newer, { kind: 'unionid', appId: '', value: 'u_late' })),
    );
    expect(await db.dataSource.manager.findOneByOrFail(ContactIdentity, { kind: 'unionid' })).toMatchObject({ contactId: older });
    expect(await db.dataSource.manager.countBy(ContactIdentity, { contactId: newer })).toBe(0);
  });

  const early = new Date('2026-11-01T08:00:00Z');
  const late = new Date('2026-11-01T09:00:00Z');

  it('the later touch commits first: first touch becomes the earlier, last touch stays the later', async () => {
    const id = await newContact('o_two_touches');
    await interleave(
      (m) => contacts.recordSource(m, id, 'booth-late', late),
      () => tx().runRetrying((m) => contacts.recordSource(m, id, 'qr-early', early)),
    );
    expect(await contact(id)).toMatchObject({
      firstSource: 'qr-early',
      firstSourceAt: early,
      lastSource: 'booth-late',
      lastSourceAt: late,
    });
  });

  it('the earlier touch commits first: first touch stays the earlier, last touch becomes the later', async () => {
    const id = await newContact('o_two_touches');
    await interleave(
      (m) => contacts.recordSource(m, id, 'qr-early', early),
      () => tx().runRetrying((m) => contacts.recordSource(m, id, 'booth-late', late)),
    );
    expect(await contact(id)).toMatchObject({
      firstSource: 'qr-early',
      firstSourceAt: early,
      lastSource: 'booth-late',
      lastSourceAt: late,
    });
  });
});
