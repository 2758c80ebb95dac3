import request from 'supertest';
import { Contact } from '../../../entities/contact.entity';
import { Interaction } from '../../../entities/interaction.entity';
import { buildAdminTestApp, type AdminTestApp } from '../../support/admin-app';
import { describeEachDatabase } from '../../support/database';

/**
 * Every time the admin API answers carries its zone: ISO-8601 in UTC with `Z`, never a naive
 * `2026-11-23 08:00:00` that a browser would read in its own zone. Checked on both databases,
 * because MySQL datetimes come back through mysql2's zone handling and SQLite's as text.
 */
const ISO_UTC = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/** Every value under a key ending in `At`, or named `at`, anywhere in a body. */
function dateFields(body: unknown, path = '$'): [string, unknown][] {
  if (Array.isArray(body)) return body.flatMap((item, i) => dateFields(item, `${path}[${i}]`));
  if (!body || typeof body !== 'object') return [];
  return Object.entries(body).flatMap(([key, value]): [string, unknown][] => {
    const here = `${path}.${key}`;
    const own: [string, unknown][] = (key === 'at' || key.endsWith('At')) && value !== null ? [[here, value]] : [];
    return [...own, ...dateFields(value, here)];
  });
}

describeEachDatabase('admin API: times are ISO-8601 UTC', (db) => {
  let t: AdminTestApp;
  let admin: string;

  beforeEach(async () => {
    t = buildAdminTestApp(db().dataSource);
    admin = await t.signIn({ username: 'root', role: 'admin' });
  });

  const get = (path: string) => request(t.server).get(path).set('Authorization', `Bearer ${admin}`).expect(200);

  it('answers login, operators, audit log, contact and timeline times with Z', async () => {
    const ds = db().dataSource;
    const when = new Date('2026-11-20T23:30:00.250Z'); // already the 21st in Shanghai
    const contact = await ds.getRepository(Contact).save(
      ds.getRepository(Contact).create({
        name: 'Li',
        score: 0,
        stage: 'acquired',
        createdAt: when,
        updatedAt: when,
        firstSourceAt: when,
        lastSourceAt: when,
        firstSource: 'qr:x',
        lastSource: 'qr:x',
      }),
    );
    await ds.getRepository(Interaction).insert({
      contactId: contact.id,
      type: 'subscribe',
      channel: 'oa',
      occurredAt: when,
      detail: {},
      dedupeKey: 'test:admin-dates:subscribe',
      createdAt: when,
    });
    await request(t.server)
      .post('/api/admin/operators')
      .set('Authorization', `Bearer ${admin}`)
      .send({ username: 'rep1', password: 'long enough', role: 'sales' })
      .expect(201);
    const login = await request(t.server).post('/api/admin/login').send({ username: 'rep1', password: 'long enough' }).expect(200);

    const bodies = [
      login.body as unknown,
      (await get('/api/admin/operators')).body as unknown,
      (await get('/api/admin/audit-log')).body as unknown,
      (await get(`/api/admin/contacts/${contact.id}`)).body as unknown,
      (await get(`/api/admin/contacts/${contact.id}/timeline`)).body as unknown,
    ];
    const fields = bodies.flatMap((body) => dateFields(body));
    expect(fields.length).toBeGreaterThanOrEqual(6);
    for (const [path, value] of fields) {
      expect([path, value]).toEqual([path, expect.stringMatching(ISO_UTC)]);
    }
    const timeline = bodies[4] as { items: { at: string }[] };
    expect(timeline.items[0]?.at).toBe('2026-11-20T23:30:00.250Z');
    const detail = dateFields(bodies[3]).map(([, value]) => value);
    expect(detail).toContain('2026-11-20T23:30:00.250Z');
    expect((bodies[0] as { expiresAt: string }).expiresAt).toMatch(ISO_UTC);
  });
});
