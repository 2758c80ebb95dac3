import { In } from 'typeorm';
import { ContactTag } from '../../../entities/contact-tag.entity';
import { Tag } from '../../../entities/tag.entity';
import { TagGroup } from '../../../entities/tag-group.entity';
import { Task } from '../../../entities/task.entity';
import { OA_TAG_SYNC, WECOM_TAG_SYNC } from '../../../server/modules/tag-sync/tag-sync.service';
import type { RunOnceOutcome } from '../../../server/modules/tasks/task-queue.service';
import { describeEachDatabase } from '../../support/database';
import { drainTasks } from '../../support/leases';
import { startTestStack, type TestStack } from '../../support/test-stack';

interface BatchBody {
  openid_list: string[];
  tagid: number;
}

interface MarkTagBody {
  userid: string;
  external_userid: string;
  add_tag: string[];
  remove_tag: string[];
}

interface AddCorpTagBody {
  group_id?: string;
  group_name?: string;
  tag: { name: string }[];
}

/** The sandbox records JSON bodies as `unknown`; these tests know which API they read. */
function bodiesOf<T>(stack: TestStack, api: string): T[] {
  return stack.sandbox.state.callsTo(api).map((call) => call.body as T);
}

describeEachDatabase('tag sync to Official Account and WeCom tags', (db) => {
  let stack: TestStack;

  beforeEach(async () => {
    stack = await startTestStack(db());
  });
  afterEach(async () => {
    await stack.close();
  });

  const m = () => db().dataSource.manager;
  const drain = (): Promise<RunOnceOutcome> => drainTasks(stack.services.queue, { handlers: stack.services.tagSync.handlers() });

  /** A contact known by its openid (a follower in the sandbox unless told otherwise). */
  async function seedFollower(p: { openid: string; inSandbox?: boolean }): Promise<number> {
    if (p.inSandbox !== false) stack.sandbox.state.addFollower({ openid: p.openid });
    const ref = { kind: 'oa_openid' as const, appId: stack.config.officialAccount.appId, value: p.openid };
    return stack.services.transactor.run(async (t) => (await stack.services.contacts.resolveContact(t, ref)).contactId);
  }

  /** A WeCom customer known by external_userid, owned by `owner` when given. */
  async function seedCustomer(p: { externalUserId: string; owner: string | null; openid?: string }): Promise<number> {
    if (p.owner !== null) stack.sandbox.state.addExternalContact({ externalUserId: p.externalUserId, followUserId: p.owner });
    const ref = { kind: 'external_userid' as const, appId: stack.config.wecom.corpId, value: p.externalUserId };
    return stack.services.transactor.run(async (t) => {
      const { contactId } = await stack.services.contacts.resolveContact(t, ref);
      if (p.owner !== null) await stack.services.contacts.addFollow(t, contactId, { userId: p.owner });
      if (p.openid !== undefined)
        await stack.services.contacts.linkIdentity(t, contactId, {
          kind: 'oa_openid',
          appId: stack.config.officialAccount.appId,
          value: p.openid,
        });
      return contactId;
    });
  }

  async function ensureTag(group: string, name: string, sync: { oa?: boolean; wecom?: boolean } = {}): Promise<Tag> {
    const tag = await stack.services.transactor.run((t) => stack.services.contactTags.ensureTag(t, { group, name }));
    if (sync.oa !== undefined || sync.wecom !== undefined) {
      await m().update(
        TagGroup,
        { id: tag.groupId },
        { ...(sync.oa === undefined ? {} : { syncOa: sync.oa }), ...(sync.wecom === undefined ? {} : { syncWecom: sync.wecom }) },
      );
    }
    return tag;
  }

  async function applyTags(contactIds: number[], p: { add?: Tag[]; remove?: Tag[] }): Promise<void> {
    await stack.services.transactor.run(async (t) => {
      for (const contactId of contactIds) {
        await stack.services.contactTags.applyTags(t, {
          contactId,
          add: p.add ?? [],
          remove: p.remove ?? [],
          actor: { kind: 'operator', id: 1 },
          cause: 'manual',
        });
      }
    });
  }

  async function tasksOf(kind: string, contactId: number): Promise<Task[]> {
    return (await m().findBy(Task, { kind })).filter((task) => task.payload.contactId === contactId);
  }

  async function oneTaskOf(kind: string, contactId: number): Promise<Task> {
    const tasks = await tasksOf(kind, contactId);
    expect(tasks).toHaveLength(1);
    return tasks[0];
  }

  /** `count` Official Account tags the account already holds, mirrored locally, in group `group`. */
  async function seedMirroredOaTags(group: string, count: number, p: { inSandbox: boolean }): Promise<Tag[]> {
    const tags: Tag[] = [];
    for (let i = 0; i < count; i += 1) {
      const tag = await ensureTag(group, `${group}-${i}`);
      const oaTagId = p.inSandbox ? stack.sandbox.state.createOaTag(tag.name).id : 10_000 + i;
      await m().update(Tag, { id: tag.id }, { oaTagId });
      tags.push({ ...tag, oaTagId });
    }
    return tags;
  }

  const openidsOf = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => `${prefix}${String(i).padStart(4, '0')}`);

  it('120 followers given one tag: the tag is created once and tagged in calls of 50, 50 and 20; a second drain sends nothing', async () => {
    const openids = openidsOf(120, 'o_fan_');
    const contactIds: number[] = [];
    for (const openid of openids) contactIds.push(await seedFollower({ openid }));
    const tag = await ensureTag('渠道', 'expo2026');

    await applyTags(contactIds, { add: [tag] });
    // Re-applying is a no-op: no second task for the same change.
    await applyTags(contactIds, { add: [tag] });
    expect(await m().countBy(Task, { kind: OA_TAG_SYNC })).toBe(120);

    const outcome = await drain();
    expect(outcome.failed).toBe(0);
    expect(outcome.retried).toBe(0);
    const state = stack.sandbox.state;
    expect(state.callsTo('tags/create')).toHaveLength(1);
    const oaTag = [...state.oaTags.values()].find((t) => t.name === 'expo2026');
    expect(oaTag).toBeDefined();
    expect((await m().findOneByOrFail(Tag, { id: tag.id })).oaTagId).toBe(oaTag?.id);

    const batches = bodiesOf<BatchBody>(stack, 'tags/members/batchtagging');
    expect(batches.map((b) => b.openid_list.length)).toEqual([50, 50, 20]);
    expect(batches.every((b) => b.tagid === oaTag?.id)).toBe(true);
    expect(batches.flatMap((b) => b.openid_list).sort()).toEqual([...openids].sort());
    for (const openid of openids) expect(state.followers.get(openid)?.tagIds).toEqual([oaTag?.id]);
    expect(await m().countBy(Task, { kind: OA_TAG_SYNC, status: 'done' })).toBe(120);

    const callsBefore = state.calls.length;
    expect(await drain()).toEqual({ done: 0, retried: 0, failed: 0 });
    expect(state.calls).toHaveLength(callsBefore);
  });

  it('removing the tag from some followers untags exactly those', async () => {
    const openids = openidsOf(60, 'o_rm_');
    const contactIds: number[] = [];
    for (const openid of openids) contactIds.push(await seedFollower({ openid }));
    const tag = await ensureTag('渠道', 'expo2026');
    await applyTags(contactIds, { add: [tag] });
    await drain();

    await applyTags(contactIds.slice(0, 7), { remove: [tag] });
    const outcome = await drain();
    expect(outcome).toEqual({ done: 7 * 2, retried: 0, failed: 0 });

    const untag = bodiesOf<BatchBody>(stack, 'tags/members/batchuntagging');
    expect(untag).toHaveLength(1);
    expect([...untag[0].openid_list].sort()).toEqual(openids.slice(0, 7).sort());
    const oaTagId = (await m().findOneByOrFail(Tag, { id: tag.id })).oaTagId;
    expect(untag[0].tagid).toBe(oaTagId);
    const state = stack.sandbox.state;
    for (const openid of openids.slice(0, 7)) expect(state.followers.get(openid)?.tagIds).toEqual([]);
    for (const openid of openids.slice(7)) expect(state.followers.get(openid)?.tagIds).toEqual([oaTagId]);
    expect(state.callsTo('tags/members/batchtagging')).toHaveLength(2);
  });

  it('with 100 Official Account tags mirrored already, a new tag fails with the 100-tag limit and is never created', async () => {
    await seedMirroredOaTags('老标签', 100, { inSandbox: false });
    const contactId = await seedFollower({ openid: 'o_limit_account' });
    const tag = await ensureTag('渠道', 'one-too-many');

    await applyTags([contactId], { add: [tag] });
    const outcome = await drain();

    expect(outcome.failed).toBe(1);
    const task = await oneTaskOf(OA_TAG_SYNC, contactId);
    expect(task.status).toBe('failed');
    expect(task.lastError).toMatch(/already has 100 tags/);
    expect(task.lastError).toMatch(/limit/);
    expect(stack.sandbox.state.callsTo('tags/create')).toHaveLength(0);
    expect(stack.sandbox.state.callsTo('tags/members/batchtagging')).toHaveLength(0);
    expect((await m().findOneByOrFail(Tag, { id: tag.id })).oaTagId).toBeNull();
  });

  it('a tag name over 30 bytes fails with the name limit and is never created', async () => {
    const contactId = await seedFollower({ openid: 'o_long_name' });
    // 12 CJK characters are 36 bytes in UTF-8: the limit counts bytes, not characters.
    const tag = await ensureTag('渠道', '二零二六年上海国际车展报', { wecom: false });

    await applyTags([contactId], { add: [tag] });
    expect(await drain()).toEqual({ done: 0, retried: 0, failed: 1 });

    const task = await oneTaskOf(OA_TAG_SYNC, contactId);
    expect(task.lastError).toMatch(/longer than 30 bytes/);
    expect(stack.sandbox.state.callsTo('tags/create')).toHaveLength(0);
    // The tags screen gets the reason as a code with its numbers, for a sentence in its language.
    const [listed] = await stack.services.tagCatalog.listTags({ groupId: tag.groupId });
    expect(listed?.sync?.oa).toMatchObject({ state: 'failed', code: 'tag_name_oa_bytes', params: { max: 30, bytes: 36 } });
  });

  it('a follower already holding 20 Official Account tags fails with the 20-tag limit; the others in the batch get the tag', async () => {
    const full = await seedFollower({ openid: 'o_full' });
    const others = [await seedFollower({ openid: 'o_free_1' }), await seedFollower({ openid: 'o_free_2' })];
    const held = await seedMirroredOaTags('兴趣', 20, { inSandbox: true });
    const state = stack.sandbox.state;
    const fullFollower = state.followers.get('o_full');
    if (!fullFollower) throw new Error('follower not seeded');
    fullFollower.tagIds = held.map((t) => t.oaTagId ?? 0);
    await m().insert(
      ContactTag,
      held.map((t) => ({ contactId: full, tagId: t.id, source: 'seed', createdAt: stack.clock.now() })),
    );

    const tag = await ensureTag('渠道', 'the-21st');
    await applyTags([others[0], full, others[1]], { add: [tag] });
    const outcome = await drain();

    expect(outcome.failed).toBe(1);
    const failed = await oneTaskOf(OA_TAG_SYNC, full);
    expect(failed.status).toBe('failed');
    expect(failed.lastError).toMatch(/20 Official Account tags/);
    for (const id of others) expect((await oneTaskOf(OA_TAG_SYNC, id)).status).toBe('done');

    const oaTagId = (await m().findOneByOrFail(Tag, { id: tag.id })).oaTagId;
    expect(bodiesOf<BatchBody>(stack, 'tags/members/batchtagging').map((b) => [...b.openid_list].sort())).toEqual([
      ['o_free_1', 'o_free_2'],
    ]);
    expect(state.followers.get('o_free_1')?.tagIds).toEqual([oaTagId]);
    expect(state.followers.get('o_free_2')?.tagIds).toEqual([oaTagId]);
    expect(fullFollower.tagIds).toHaveLength(20);
  });

  it('a follower the platform rejects does not stop the batch: it is retried one by one and only the bad one fails', async () => {
    const good = openidsOf(4, 'o_good_');
    const ids: number[] = [];
    for (const openid of good.slice(0, 2)) ids.push(await seedFollower({ openid }));
    const bad = await seedFollower({ openid: 'o_never_followed', inSandbox: false });
    ids.push(bad);
    for (const openid of good.slice(2)) ids.push(await seedFollower({ openid }));
    const tag = await ensureTag('渠道', 'expo2026');

    await applyTags(ids, { add: [tag] });
    const outcome = await drain();

    expect(outcome.failed).toBe(1);
    const batches = bodiesOf<BatchBody>(stack, 'tags/members/batchtagging');
    expect(batches[0].openid_list).toHaveLength(5);
    expect(batches.slice(1).map((b) => b.openid_list.length)).toEqual([1, 1, 1, 1, 1]);
    const failed = await oneTaskOf(OA_TAG_SYNC, bad);
    expect(failed.status).toBe('failed');
    expect(failed.lastError).toMatch(/errcode 40003 \(invalid openid/);
    const oaTagId = (await m().findOneByOrFail(Tag, { id: tag.id })).oaTagId;
    for (const openid of good) expect(stack.sandbox.state.followers.get(openid)?.tagIds).toEqual([oaTagId]);
    for (const id of ids.filter((x) => x !== bad)) expect((await oneTaskOf(OA_TAG_SYNC, id)).status).toBe('done');
  });

  it('a transient platform error (-1) leaves the tasks pending for later; they succeed after the backoff', async () => {
    const ids = [await seedFollower({ openid: 'o_busy_1' }), await seedFollower({ openid: 'o_busy_2' })];
    const tag = await ensureTag('渠道', 'expo2026');
    await applyTags(ids, { add: [tag] });
    stack.sandbox.state.failNext('tags/members/batchtagging', -1);

    const first = await drain();
    expect(first.retried).toBe(2);
    expect(first.failed).toBe(0);
    const now = stack.clock.now().getTime();
    for (const id of ids) {
      const task = await oneTaskOf(OA_TAG_SYNC, id);
      expect(task.status).toBe('pending');
      expect(task.runAt.getTime()).toBeGreaterThan(now);
      expect(task.lastError).toMatch(/errcode -1/);
    }
    // Not due yet: nothing is sent.
    expect(await drain()).toEqual({ done: 0, retried: 0, failed: 0 });
    expect(stack.sandbox.state.callsTo('tags/members/batchtagging')).toHaveLength(1);

    stack.clock.advance(31_000);
    expect(await drain()).toEqual({ done: 2, retried: 0, failed: 0 });
    const oaTagId = (await m().findOneByOrFail(Tag, { id: tag.id })).oaTagId;
    for (const openid of ['o_busy_1', 'o_busy_2']) expect(stack.sandbox.state.followers.get(openid)?.tagIds).toEqual([oaTagId]);
    for (const id of ids) expect((await oneTaskOf(OA_TAG_SYNC, id)).status).toBe('done');
    expect(stack.sandbox.state.callsTo('tags/create')).toHaveLength(1);
  });

  it('WeCom: one mark_tag per customer with all its tags, corp tags created once, ownerless customers fail, sync flags respected', async () => {
    const a = await ensureTag('意向', '想报名', { oa: false });
    const b = await ensureTag('意向', '要报价', { oa: false });
    const oaOnly = await ensureTag('渠道', 'expo2026', { wecom: false });
    stack.sandbox.state.addFollower({ openid: 'o_li' });
    const li = await seedCustomer({ externalUserId: 'wm_li', owner: 'sales-li', openid: 'o_li' });
    const wang = await seedCustomer({ externalUserId: 'wm_wang', owner: 'sales-wang' });
    const orphan = await seedCustomer({ externalUserId: 'wm_orphan', owner: null });

    await applyTags([li], { add: [a, b, oaOnly] });
    await applyTags([wang, orphan], { add: [a] });

    // Only what each group syncs is enqueued.
    expect((await tasksOf(WECOM_TAG_SYNC, li)).map((t) => t.payload.tagId).sort()).toEqual([a.id, b.id].sort());
    expect((await tasksOf(OA_TAG_SYNC, li)).map((t) => t.payload.tagId)).toEqual([oaOnly.id]);

    const outcome = await drain();
    expect(outcome.failed).toBe(1);

    const state = stack.sandbox.state;
    const created = bodiesOf<AddCorpTagBody>(stack, 'externalcontact/add_corp_tag');
    expect(created.map((c) => c.tag.map((t) => t.name))).toEqual([['想报名'], ['要报价']]);
    expect(created[0].group_name).toBe('意向');
    const group = state.corpTagGroups.find((g) => g.groupName === '意向');
    expect(created[1].group_id).toBe(group?.groupId);
    expect(state.corpTagGroups).toHaveLength(1);
    expect(group?.tags.map((t) => t.name)).toEqual(['想报名', '要报价']);
    const idOf = (name: string) => group?.tags.find((t) => t.name === name)?.id ?? '';
    expect((await m().findOneByOrFail(Tag, { id: a.id })).wecomTagId).toBe(idOf('想报名'));
    expect((await m().findOneByOrFail(TagGroup, { id: a.groupId })).wecomGroupId).toBe(group?.groupId);

    const marks = bodiesOf<MarkTagBody>(stack, 'externalcontact/mark_tag');
    expect(marks).toHaveLength(2);
    const liMark = marks.find((c) => c.external_userid === 'wm_li');
    expect(liMark).toMatchObject({ userid: 'sales-li', remove_tag: [] });
    expect([...(liMark?.add_tag ?? [])].sort()).toEqual([idOf('想报名'), idOf('要报价')].sort());
    expect(marks.find((c) => c.external_userid === 'wm_wang')).toEqual({
      userid: 'sales-wang',
      external_userid: 'wm_wang',
      add_tag: [idOf('想报名')],
      remove_tag: [],
    });
    expect(state.externalContacts.get('wm_li')?.followUsers[0]?.tagIds.sort()).toEqual([idOf('想报名'), idOf('要报价')].sort());

    const orphanTask = await oneTaskOf(WECOM_TAG_SYNC, orphan);
    expect(orphanTask.status).toBe('failed');
    expect(orphanTask.lastError).toMatch(/no WeCom follow user/);

    // The OA-only tag went to the Official Account, the WeCom-only ones did not.
    expect([...state.oaTags.values()].map((t) => t.name)).toEqual(['expo2026']);
    expect(bodiesOf<BatchBody>(stack, 'tags/members/batchtagging').map((c) => c.openid_list)).toEqual([['o_li']]);
    expect(await m().countBy(Task, { status: In(['pending', 'running']) })).toBe(0);
  });

  it('an add that waits out a backoff does not re-tag a follower whose tag was removed meanwhile', async () => {
    const contactId = await seedFollower({ openid: 'o_flip' });
    const tag = await ensureTag('渠道', 'expo2026', { wecom: false });
    await applyTags([contactId], { add: [tag] });
    stack.sandbox.state.failNext('tags/members/batchtagging', -1);
    expect(await drain()).toMatchObject({ retried: 1 });

    await applyTags([contactId], { remove: [tag] });
    expect(await drain()).toEqual({ done: 1, retried: 0, failed: 0 });
    stack.clock.advance(31_000);
    expect(await drain()).toEqual({ done: 1, retried: 0, failed: 0 });

    // The contact no longer holds the tag, so neither should the follower.
    expect(stack.sandbox.state.followers.get('o_flip')?.tagIds).toEqual([]);
    expect(stack.sandbox.state.callsTo('tags/members/batchtagging')).toHaveLength(1);
  });

  it('a remove that waits out a backoff does not untag a customer who was given the tag again meanwhile', async () => {
    const contactId = await seedCustomer({ externalUserId: 'wm_flip', owner: 'sales-li' });
    const tag = await ensureTag('意向', '想报名', { oa: false });
    await applyTags([contactId], { add: [tag] });
    await drain();

    await applyTags([contactId], { remove: [tag] });
    stack.sandbox.state.failNext('externalcontact/mark_tag', -1);
    expect(await drain()).toMatchObject({ retried: 1 });
    await applyTags([contactId], { add: [tag] });
    expect(await drain()).toEqual({ done: 1, retried: 0, failed: 0 });
    stack.clock.advance(31_000);
    expect(await drain()).toEqual({ done: 1, retried: 0, failed: 0 });

    const wecomTagId = (await m().findOneByOrFail(Tag, { id: tag.id })).wecomTagId;
    expect(stack.sandbox.state.externalContacts.get('wm_flip')?.followUsers[0]?.tagIds).toEqual([wecomTagId]);
  });

  it('tasks enqueued in a transaction that rolls back are never sent', async () => {
    const contactId = await seedFollower({ openid: 'o_rollback' });
    const tag = await ensureTag('渠道', 'expo2026');

    await expect(
      stack.services.transactor.run(async (t) => {
        await stack.services.contactTags.applyTags(t, {
          contactId,
          add: [tag],
          remove: [],
          actor: { kind: 'operator', id: 1 },
          cause: 'manual',
        });
        expect(await t.countBy(Task, {})).toBe(2);
        throw new Error('the caller failed after tagging');
      }),
    ).rejects.toThrow('the caller failed after tagging');

    expect(await m().count(Task)).toBe(0);
    expect(await m().countBy(ContactTag, { contactId })).toBe(0);
    expect(await drain()).toEqual({ done: 0, retried: 0, failed: 0 });
    expect(stack.sandbox.state.callsTo('tags/create')).toHaveLength(0);
    expect(stack.sandbox.state.callsTo('tags/members/batchtagging')).toHaveLength(0);
  });
});
