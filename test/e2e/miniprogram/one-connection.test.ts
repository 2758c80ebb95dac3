import request from 'supertest';
import type { DataSource } from 'typeorm';
import { createDataSource } from '../../../server/db/data-source';
import { describeEachDatabase } from '../../support/database';
import { loginMiniProgram, signInAdmin, startTestStack, type TestStack } from '../../support/test-stack';

const HOUR = 3_600_000;
/** Far above what the flow takes on one connection; a wait for a second connection never ends. */
const STALL_MS = 20_000;

/**
 * Code inside a transaction must do all its work on the transaction's connection. A query through
 * the pool there waits for a second connection while the transaction holds its row locks; under
 * load the requests waiting on those locks hold every pooled connection, and nothing moves until
 * the lock wait timeout (bench:mp stalled for 50 s this way: the reactions batch holds its contacts'
 * rows, and the tag and score rules' caches were refilled through the pool). Here the whole flow
 * runs with a pool of ONE connection, so any such second connection stalls at once: a mini-program
 * login, a registration (the rate limits, the contact, the seat), and the reactions of both with
 * the rule caches expired (tag rules, score rules, stage rules), as they are every 2 s in production,
 * and the admin's search for the registrant.
 */
describeEachDatabase('one pooled connection: no transaction waits for a second one', (db) => {
  let single: DataSource;
  let stack: TestStack;

  beforeEach(async () => {
    // SQLite has one connection whatever the pool: the suite is about MySQL's pool, and runs on
    // SQLite as every suite does.
    single = await createDataSource(db().config, { poolSize: 1 });
    await single.initialize();
    stack = await startTestStack({ dataSource: single }, {}, { platformTimeoutMs: 15_000 });
  });
  afterEach(async () => {
    await stack.close();
    await single.destroy();
  });
  jest.setTimeout(90_000);

  const within = <T>(what: string, work: Promise<T>): Promise<T> =>
    Promise.race([
      work,
      new Promise<never>((_resolve, reject) =>
        setTimeout(() => reject(new Error(`${what} stalled: a second connection?`)), STALL_MS).unref(),
      ),
    ]);

  it('logs in, registers and runs the reactions with rules to load, on one connection', async () => {
    const admin = await signInAdmin(stack);
    const api = (method: 'get' | 'post', path: string, token: string, body?: object) =>
      request(stack.baseUrl)[method](path).set('authorization', `Bearer ${token}`).send(body);
    // A rule of each kind the registration's reactions read.
    const tagRule = {
      name: '报名',
      interactionType: 'registration',
      matchKind: 'any',
      addTags: [{ group: '展会', name: '已报名' }],
      scorePoints: 5,
    };
    await api('post', '/api/admin/tag-rules', admin, tagRule).expect(201);
    await api('post', '/api/admin/score-rules', admin, {
      name: '报名加分',
      kind: 'behaviour',
      interactionType: 'registration',
      matchKind: 'any',
      points: 7,
    }).expect(201);
    await api('post', '/api/admin/stage-rules', admin, { interactionType: 'registration', minCount: 1, stage: 'activated' }).expect(201);
    const now = stack.clock.now().getTime();
    const event = await api('post', '/api/admin/events', admin, {
      name: '2026 智能制造展',
      venue: { name: '国家会展中心', address: '上海市青浦区崧泽大道333号', lat: 31.19, lng: 121.3 },
      startsAt: new Date(now + 48 * HOUR).toISOString(),
      endsAt: new Date(now + 56 * HOUR).toISOString(),
      capacity: 100,
      registrationDeadline: new Date(now + 24 * HOUR).toISOString(),
      fields: [],
      benefit: null,
      agenda: [],
    }).expect(201);
    const eventId = (event.body as { id: number }).id;

    const { token } = await within('the mini-program login', loginMiniProgram(stack));
    // The caches were filled when the rules were written: past their 2 s, the batch reads them again.
    stack.clock.advance(5_000);
    const registered = await within(
      'the registration',
      api('post', `/api/mp/events/${eventId}/registrations`, token, { answers: { name: '张三', phone: '13800138000' }, consent: true }),
    );
    expect(registered.status).toBe(201);
    await within(
      'the reactions',
      stack.services.reactions.idle().then(() => stack.services.reactions.processDue()),
    );

    // The reactions did their work: the rule's tag, both rules' points, the stage.
    const [contact] = await single.query<{ id: number | string; score: number | string; stage: string }[]>(
      "SELECT c.id, c.score, c.stage FROM contacts c JOIN contact_identities i ON i.contact_id = c.id WHERE i.kind = 'phone' AND i.value = '+8613800138000'",
    );
    expect(contact).toMatchObject({ stage: 'activated' });
    expect(Number(contact?.score)).toBe(12);
    const tags = await single.query<{ name: string }[]>(
      'SELECT t.name FROM contact_tags ct JOIN tags t ON t.id = ct.tag_id WHERE ct.contact_id = ?',
      [contact?.id],
    );
    expect(tags.map((t) => t.name)).toContain('已报名');
    // The registration's phone and name are searchable (their terms are the batch's to write: search-terms.reaction.ts).
    for (const q of ['13800138000', '张三']) {
      const found = await api('get', `/api/admin/contacts?q=${encodeURIComponent(q)}`, admin).expect(200);
      expect((found.body as { items: { id: number }[] }).items.map((c) => c.id)).toEqual([Number(contact?.id)]);
    }
  });
});
