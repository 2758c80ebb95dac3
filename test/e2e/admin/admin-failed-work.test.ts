import request from 'supertest';
import { AuditLog } from '../../../entities/audit-log.entity';
import { ReactionWork } from '../../../entities/reaction-work.entity';
import { Interaction } from '../../../entities/interaction.entity';
import { Tag } from '../../../entities/tag.entity';
import { TagGroup } from '../../../entities/tag-group.entity';
import { Task } from '../../../entities/task.entity';
import { Transactor } from '../../../server/db/transaction';
import { ContactsService } from '../../../server/modules/contacts/contacts.service';
import type { TaskResult } from '../../../server/modules/tasks/task-queue.service';
import { buildAdminTestApp, type AdminTestApp } from '../../support/admin-app';
import { describeEachDatabase } from '../../support/database';

interface FailedWorkBody {
  items: {
    id: number;
    kind: string | null;
    dedupeKey: string;
    attempts: number;
    lastError: string | null;
    errcode: { code: number; meaning: string } | null;
    updatedAt: string;
    channel?: string | null;
    subject?: unknown;
  }[];
  nextBefore: number | null;
}

const INVALID_TAG = 'tags/members/batchtagging failed with errcode 45159 (invalid tag id): invalid tagid rid: 6566';

describeEachDatabase('admin API: failed work, listed and re-driven', (db) => {
  let t: AdminTestApp;
  let admin: string;

  beforeEach(async () => {
    t = buildAdminTestApp(db().dataSource);
    admin = await t.signIn({ username: 'root', role: 'admin' });
  });

  const as = (token: string) => ({
    get: (path: string) => request(t.server).get(path).set('Authorization', `Bearer ${token}`),
    post: (path: string, body: object = {}) => request(t.server).post(path).set('Authorization', `Bearer ${token}`).send(body),
  });

  /** Runs the queue once with a handler that fails `doomed:*` tasks for good and others for a retry. */
  async function failTasks(keys: string[]): Promise<Map<string, number>> {
    for (const key of keys) await t.queue.enqueue({ kind: 'oa-tag-sync', dedupeKey: key, payload: {} });
    await t.queue.runOnce({
      handlers: {
        'oa-tag-sync': (tasks) =>
          Promise.resolve(
            tasks.map((task): TaskResult =>
              task.dedupeKey.startsWith('doomed')
                ? { id: task.id, ok: false, error: INVALID_TAG, retryable: false }
                : { id: task.id, ok: false, error: 'connect ECONNREFUSED', retryable: true },
            ),
          ),
      },
    });
    const rows = await db().dataSource.getRepository(Task).find();
    return new Map(rows.map((row) => [row.dedupeKey, row.id]));
  }

  it('lists a task that failed for good with its error and errcode; a retry makes it pending and due, audited', async () => {
    const ids = await failTasks(['doomed:1', 'flaky:1']);
    const doomed = ids.get('doomed:1') ?? 0;
    t.clock.advance(5_000);

    const list = (await as(admin).get('/api/admin/failed-work?kind=tasks').expect(200)).body as FailedWorkBody;
    expect(list.items).toEqual([
      {
        id: doomed,
        kind: 'oa-tag-sync',
        dedupeKey: 'doomed:1',
        attempts: 1,
        lastError: INVALID_TAG,
        errcode: { code: 45159, meaning: 'invalid tag id' },
        updatedAt: new Date(t.clock.now().getTime() - 5_000).toISOString(),
        subject: null,
      },
    ]);
    expect(list.nextBefore).toBeNull();

    const retried = await as(admin).post(`/api/admin/failed-work/tasks/${doomed}/retry`).expect(200);
    expect(retried.body).toEqual({ retried: [doomed] });
    expect(await db().dataSource.getRepository(Task).findOneByOrFail({ id: doomed })).toMatchObject({
      status: 'pending',
      attempts: 0,
      runAt: t.clock.now(),
      leaseHolder: null,
    });
    // Due now: the next claim takes it (the flaky task is still backing off).
    const claimed = await t.queue.claim({ kinds: ['oa-tag-sync'], limit: 10 });
    expect(claimed?.tasks.map((task) => task.id)).toEqual([doomed]);

    const audit = await db().dataSource.getRepository(AuditLog).findBy({ action: 'failed_work.retry' });
    expect(audit).toEqual([expect.objectContaining({ targetType: 'tasks', targetId: String(doomed), detail: { kind: 'tasks' } })]);
    expect(audit[0].operatorId).not.toBeNull();

    // No longer failed: a second retry finds nothing to re-drive.
    await as(admin).post(`/api/admin/failed-work/tasks/${doomed}/retry`).expect(404);
    expect(((await as(admin).get('/api/admin/failed-work').expect(200)).body as FailedWorkBody).items).toEqual([]);
  });

  it("names a failed tag sync's tag (group/name) and contact (display identity) from its payload, for the page's sentence", async () => {
    const m = db().dataSource.manager;
    await m.insert(TagGroup, { name: '购买意向', syncOa: true, syncWecom: true, createdAt: t.clock.now() });
    const group = await m.findOneByOrFail(TagGroup, { name: '购买意向' });
    await m.insert(Tag, { groupId: group.id, name: '需要发票', createdAt: t.clock.now() });
    const tag = await m.findOneByOrFail(Tag, { name: '需要发票' });
    const { contactId } = await new Transactor(db().dataSource).run((manager) =>
      new ContactsService({ clock: t.clock }).resolveContact(manager, { kind: 'oa_openid', appId: 'wxapp', value: 'o_follower_A1b2' }),
    );
    await t.queue.enqueue({ kind: 'oa_tag_sync', dedupeKey: 'oa_tag:add:35', payload: { contactId, tagId: tag.id, op: 'add' } });
    await t.queue.enqueue({
      kind: 'oa_tag_catalog_sync',
      dedupeKey: 'oa_tag_catalog_sync:x',
      payload: { op: 'delete', oaTagIds: [101, 102], wecomTagIds: [], wecomGroupIds: [] },
    });
    const fail = (tasks: { id: number }[]) =>
      Promise.resolve(tasks.map((task): TaskResult => ({ id: task.id, ok: false, error: INVALID_TAG, retryable: false })));
    await t.queue.runOnce({ handlers: { oa_tag_sync: fail, oa_tag_catalog_sync: fail } });
    const list = (await as(admin).get('/api/admin/failed-work?kind=tasks').expect(200)).body as FailedWorkBody;
    const byKind = new Map(list.items.map((item) => [item.kind, item]));
    expect(byKind.get('oa_tag_sync')?.subject).toEqual({
      op: 'add',
      tag: '购买意向/需要发票',
      contact: expect.objectContaining({ kind: 'oa_follower', text: 'A1b2' }) as unknown,
      count: null,
    });
    expect(byKind.get('oa_tag_catalog_sync')?.subject).toEqual({ op: 'delete', tag: null, contact: null, count: 2 });
  });

  it('retries in bulk only the ids that failed, auditing each, and pages newest first', async () => {
    const ids = await failTasks(['doomed:1', 'doomed:2', 'doomed:3', 'flaky:1']);
    const page = (await as(admin).get('/api/admin/failed-work?kind=tasks&limit=2').expect(200)).body as FailedWorkBody;
    expect(page.items.map((item) => item.dedupeKey)).toEqual(['doomed:3', 'doomed:2']);
    const rest = (
      await as(admin)
        .get(`/api/admin/failed-work?kind=tasks&limit=2&before=${page.nextBefore ?? 0}`)
        .expect(200)
    ).body as FailedWorkBody;
    expect(rest.items.map((item) => item.dedupeKey)).toEqual(['doomed:1']);

    const wanted = [ids.get('doomed:1') ?? 0, ids.get('doomed:3') ?? 0, ids.get('flaky:1') ?? 0, 999_999];
    const retried = await as(admin).post('/api/admin/failed-work/tasks/retry', { ids: wanted }).expect(200);
    expect(retried.body).toEqual({ retried: [ids.get('doomed:1'), ids.get('doomed:3')] });
    const rows = await db()
      .dataSource.getRepository(Task)
      .find({ order: { id: 'ASC' } });
    expect(rows.map((row) => [row.dedupeKey, row.status])).toEqual([
      ['doomed:1', 'pending'],
      ['doomed:2', 'failed'],
      ['doomed:3', 'pending'],
      ['flaky:1', 'pending'],
    ]);
    expect(
      (await db().dataSource.getRepository(AuditLog).findBy({ action: 'failed_work.retry' })).map((row) => row.targetId).sort(),
    ).toEqual([String(ids.get('doomed:1')), String(ids.get('doomed:3'))].sort());
    await as(admin).post('/api/admin/failed-work/tasks/retry', { ids: [] }).expect(400);
    await as(admin)
      .post('/api/admin/failed-work/outbox/retry', { ids: [1] })
      .expect(404);
    await as(admin).get('/api/admin/failed-work?kind=outbox').expect(400);
  });

  it('lets admins and operators in, not sales reps', async () => {
    const ids = await failTasks(['doomed:1']);
    const operator = await t.signIn({ username: 'olga', role: 'operator' });
    const sales = await t.signIn({ username: 'sam', role: 'sales', wecomUserId: 'sam' });
    await as(sales).get('/api/admin/failed-work').expect(403);
    await as(sales)
      .post(`/api/admin/failed-work/tasks/${ids.get('doomed:1') ?? 0}/retry`)
      .expect(403);
    await as(sales)
      .post('/api/admin/failed-work/tasks/retry', { ids: [ids.get('doomed:1')] })
      .expect(403);
    await request(t.server).get('/api/admin/failed-work').expect(401);
    expect(await db().dataSource.getRepository(Task).findOneByOrFail({ dedupeKey: 'doomed:1' })).toMatchObject({ status: 'failed' });

    expect(((await as(operator).get('/api/admin/failed-work').expect(200)).body as FailedWorkBody).items).toHaveLength(1);
    await as(operator)
      .post(`/api/admin/failed-work/tasks/${ids.get('doomed:1') ?? 0}/retry`)
      .expect(200);
    expect(await db().dataSource.getRepository(AuditLog).countBy({ action: 'failed_work.retry' })).toBe(1);
  });

  it('lists failed reaction work with its interaction’s type and channel, and re-drives it', async () => {
    const m = db().dataSource.manager;
    const now = t.clock.now();
    await m.insert(Interaction, {
      contactId: null,
      type: 'subscribe',
      channel: 'oa',
      occurredAt: now,
      detail: {},
      dedupeKey: 'oa:o1:1:subscribe',
      refType: null,
      refId: null,
      createdAt: now,
    });
    const work = {
      status: 'failed' as const,
      attempts: 10,
      nextAttemptAt: now,
      leaseHolder: null,
      leaseUntil: null,
      createdAt: now,
      updatedAt: now,
    };
    await m.insert(ReactionWork, {
      ...work,
      dedupeKey: 'oa:o1:1:subscribe',
      lastError: 'user/info failed with errcode 40003 (invalid openid (WeCom: invalid userid)): invalid openid',
    });
    await m.insert(ReactionWork, { ...work, dedupeKey: 'oa:o2:1:subscribe', status: 'done', lastError: null });

    const list = (await as(admin).get('/api/admin/failed-work?kind=reactions').expect(200)).body as FailedWorkBody;
    expect(list.items).toEqual([
      expect.objectContaining({
        kind: 'subscribe',
        channel: 'oa',
        dedupeKey: 'oa:o1:1:subscribe',
        attempts: 10,
        errcode: { code: 40003, meaning: 'invalid openid (WeCom: invalid userid)' },
      }),
    ]);

    const id = list.items[0].id;
    await as(admin).post(`/api/admin/failed-work/reactions/${id}/retry`).expect(200);
    expect(await m.findOneByOrFail(ReactionWork, { id })).toMatchObject({ status: 'pending', attempts: 0, nextAttemptAt: now });
    expect(await db().dataSource.getRepository(AuditLog).findBy({ action: 'failed_work.retry' })).toEqual([
      expect.objectContaining({ targetType: 'reaction_work', targetId: String(id), detail: { kind: 'reactions' } }),
    ]);
  });
});
