import request from 'supertest';
import type { EntityManager } from 'typeorm';
import { Contact } from '../../../entities/contact.entity';
import { ContactTag } from '../../../entities/contact-tag.entity';
import { Operator } from '../../../entities/operator.entity';
import { Tag } from '../../../entities/tag.entity';
import { TagGroup } from '../../../entities/tag-group.entity';
import { TagRule } from '../../../entities/tag-rule.entity';
import { buildAdminTestApp, type AdminTestApp } from '../../support/admin-app';
import {
  createTestDatabase,
  DATABASE_KINDS,
  describeEachDatabase,
  untilSomeoneWaitsForALock,
  type TestDatabase,
} from '../../support/database';

interface Answer {
  status: number;
  body: unknown;
}

const TIMES = 6;

/** The statuses, and the error code of each error answer: what a client can tell apart. */
const outcomes = (answers: Answer[]) =>
  answers
    .map((a) => {
      const body = a.body as { error?: { code?: string } };
      return body.error ? `${a.status} ${body.error.code}` : String(a.status);
    })
    .sort();

/** What each create below sends, and the unique key it takes. */
const creates = {
  'tag group': { path: '/api/admin/tag-groups', body: () => ({ name: 'Interest' }) },
  tag: { path: '/api/admin/tags', body: (groupId: number) => ({ groupId, name: 'VIP' }) },
  'tag rule': { path: '/api/admin/tag-rules', body: () => ({ name: 'Greets', interactionType: 'text', matchKind: 'any' }) },
  operator: { path: '/api/admin/operators', body: () => ({ username: 'rep', password: 'long enough', role: 'sales' }) },
} as const;
type CreateKind = keyof typeof creates;
const KINDS = Object.keys(creates) as CreateKind[];

/** Rows holding each create's key, as the request would insert them. */
const holders: Record<CreateKind, (m: EntityManager, groupId: number) => Promise<unknown>> = {
  'tag group': (m) => m.insert(TagGroup, { name: 'Interest', syncOa: true, syncWecom: true, createdAt: new Date() }),
  tag: (m, groupId) => m.insert(Tag, { groupId, name: 'VIP', createdAt: new Date() }),
  'tag rule': (m) =>
    m.insert(TagRule, {
      name: 'Greets',
      enabled: true,
      priority: 100,
      interactionType: 'text',
      matchKind: 'any',
      matchValue: null,
      addTags: [],
      removeTags: [],
      scorePoints: 0,
      replyText: null,
      replyNews: null,
      createdAt: new Date(),
      updatedAt: new Date(),
    }),
  operator: (m) =>
    m.insert(Operator, {
      username: 'rep',
      passwordHash: 'x',
      role: 'sales',
      disabled: false,
      createdAt: new Date(),
      updatedAt: new Date(),
    }),
};
const rowsOf: Record<CreateKind, (m: EntityManager) => Promise<number>> = {
  'tag group': (m) => m.countBy(TagGroup, { name: 'Interest' }),
  tag: (m) => m.countBy(Tag, { name: 'VIP' }),
  'tag rule': (m) => m.countBy(TagRule, { name: 'Greets' }),
  operator: (m) => m.countBy(Operator, { username: 'rep' }),
};

describeEachDatabase('admin API: the same request sent several times at once', (db) => {
  let t: AdminTestApp;
  let token: string;
  let groupId: number;

  beforeEach(async () => {
    t = buildAdminTestApp(db().dataSource);
    token = await t.signIn({ username: 'root', role: 'admin' });
    groupId = ((await post('/api/admin/tag-groups', { name: 'Existing' }).expect(201)).body as { id: number }).id;
  });

  const post = (path: string, body: object) => request(t.server).post(path).set('Authorization', `Bearer ${token}`).send(body);
  const times = (make: () => Promise<Answer>) => Promise.all(Array.from({ length: TIMES }, make));

  it.each(KINDS)('creating the same %s: one 201, every other answer the 409 a later duplicate gets, one row', async (kind) => {
    const create = creates[kind];
    const answers = await times(() => post(create.path, create.body(groupId)));
    expect(outcomes(answers)).toEqual(['201', ...Array.from({ length: TIMES - 1 }, () => '409 conflict')]);
    expect(await rowsOf[kind](db().dataSource.manager)).toBe(1);
    expect(outcomes([await post(create.path, create.body(groupId))])).toEqual(['409 conflict']);
  });

  const newContact = async () => {
    const now = t.clock.now();
    const inserted = await db().dataSource.getRepository(Contact).insert({ name: 'x', createdAt: now, updatedAt: now });
    return Number((inserted.identifiers[0] as { id: number }).id);
  };

  it('adding the same tag to a contact: every answer is the same 200 listing it; removing it likewise', async () => {
    const vip = (await post('/api/admin/tags', { groupId, name: 'VIP' }).expect(201)).body as { id: number };
    const contactId = await newContact();
    const expected = { tags: [{ id: vip.id, group: 'Existing', name: 'VIP' }] };
    for (let round = 0; round < 3; round += 1) {
      const added = await times(() => post(`/api/admin/contacts/${contactId}/tags`, { add: [vip.id], remove: [] }));
      expect(added.map((a) => [a.status, a.body])).toEqual(added.map(() => [200, expected]));
      expect(await db().dataSource.manager.countBy(ContactTag, { contactId })).toBe(1);
      const removed = await times(() => post(`/api/admin/contacts/${contactId}/tags`, { add: [], remove: [vip.id] }));
      expect(removed.map((a) => [a.status, a.body])).toEqual(removed.map(() => [200, { tags: [] }]));
    }
  });

  it('tagging the same selection: every answer is 200, and each contact holds the tag once', async () => {
    const vip = (await post('/api/admin/tags', { groupId, name: 'VIP' }).expect(201)).body as { id: number };
    const contactIds = [await newContact(), await newContact(), await newContact()];
    const answers = await times(() => post('/api/admin/contacts/bulk-tags', { contactIds, add: [vip.id], remove: [] }));
    expect(answers.map((a) => a.status)).toEqual(answers.map(() => 200));
    // Each contact changed once, whichever request did it.
    expect(answers.reduce((sum, a) => sum + (a.body as { updated: number }).updated, 0)).toBe(3);
    expect(await db().dataSource.manager.count(ContactTag)).toBe(3);
  });
});

/**
 * The requests wait on a first writer of the same key that then rolls back: InnoDB has given each
 * waiter a shared lock on the key, each then wants it exclusively, and they deadlock. The loser
 * must answer 409 like any duplicate, not 500.
 */
const mysqlOnly = DATABASE_KINDS.includes('mysql') ? describe : describe.skip;
mysqlOnly('admin API: duplicates waiting on a first writer that rolls back [mysql]', () => {
  let db: TestDatabase;
  let t: AdminTestApp;
  let token: string;
  let groupId: number;
  beforeAll(async () => {
    db = await createTestDatabase('mysql');
  });
  afterAll(async () => {
    await db.destroy();
  });
  beforeEach(async () => {
    await db.reset();
    t = buildAdminTestApp(db.dataSource);
    token = await t.signIn({ username: 'root', role: 'admin' });
    groupId = ((await post('/api/admin/tag-groups', { name: 'Existing' }).expect(201)).body as { id: number }).id;
  });
  const post = (path: string, body: object) => request(t.server).post(path).set('Authorization', `Bearer ${token}`).send(body);

  it.each(KINDS)('creating the same %s three times: one 201 and two 409, never 500', async (kind) => {
    const runner = db.dataSource.createQueryRunner();
    await runner.connect();
    await runner.startTransaction();
    let answers: Answer[];
    try {
      await holders[kind](runner.manager, groupId);
      const create = creates[kind];
      const sent = Promise.all([1, 2, 3].map(() => post(create.path, create.body(groupId)).then((r): Answer => r)));
      await untilSomeoneWaitsForALock(db.dataSource, 3);
      await runner.rollbackTransaction();
      answers = await sent;
    } finally {
      if (runner.isTransactionActive) await runner.rollbackTransaction();
      await runner.release();
    }
    expect(outcomes(answers)).toEqual(['201', '409 conflict', '409 conflict']);
    expect(await rowsOf[kind](db.dataSource.manager)).toBe(1);
  });
});
