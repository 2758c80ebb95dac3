import { AuditLog } from '../../../entities/audit-log.entity';
import { Tag } from '../../../entities/tag.entity';
import { TagRule } from '../../../entities/tag-rule.entity';
import { Task } from '../../../entities/task.entity';
import { describeEachDatabase } from '../../support/database';
import { startTestStack, type TestStack } from '../../support/test-stack';

/**
 * An operator renames or deletes a tag in Flywheel: rules that name it follow, and the copies on
 * the Official Account and in WeCom are renamed or deleted through the task queue.
 */
describeEachDatabase('tag catalog changes reach the rules and the platforms', (db) => {
  let stack: TestStack;
  const actor = { operatorId: null, ip: '127.0.0.1' };
  beforeEach(async () => {
    stack = await startTestStack(db());
  });
  afterEach(async () => {
    await stack.close();
  });

  /** A tag that has been synced already: it has a copy on both platforms. */
  async function syncedTag(
    groupName: string,
    name: string,
  ): Promise<{ tag: Tag; oaTagId: number; wecomTagId: string; wecomGroupId: string }> {
    const group = await stack.services.tagCatalog.createTagGroup({ name: groupName, actor });
    if (!group.ok) throw new Error(group.reason);
    const created = await stack.services.tagCatalog.createTag({ groupId: group.value.id, name, actor });
    if (!created.ok) throw new Error(created.reason);
    const oaTagId = stack.sandbox.state.createOaTag(name).id;
    const corp = stack.sandbox.state.addCorpTags({ groupName, tagNames: [name] });
    const wecomTagId = corp.created[0].id;
    await db().dataSource.manager.update(Tag, { id: created.value.id }, { oaTagId, wecomTagId });
    await db().dataSource.query('UPDATE tag_groups SET wecom_group_id = ? WHERE id = ?', [corp.group.groupId, group.value.id]);
    return {
      tag: await db().dataSource.manager.findOneByOrFail(Tag, { id: created.value.id }),
      oaTagId,
      wecomTagId,
      wecomGroupId: corp.group.groupId,
    };
  }

  const runQueue = () => stack.services.queue.runOnce({ handlers: stack.services.tagSync.handlers() });
  const ruleRefs = async (name: string) => {
    const rule = await db().dataSource.manager.findOneByOrFail(TagRule, { name });
    return { add: rule.addTags, remove: rule.removeTags };
  };

  it('a rename is mirrored to both platforms, and the default rules that name the tag follow it', async () => {
    const { tag, oaTagId, wecomTagId } = await syncedTag('生命周期', '已关注');
    const renamed = await stack.services.tagCatalog.updateTag({ id: tag.id, name: '已关注公众号', actor });
    expect(renamed.ok).toBe(true);

    // The seeded rules 关注 (adds it) and 取消关注 (removes it) now name the new tag.
    expect(await ruleRefs('关注')).toEqual({
      add: [{ group: '生命周期', name: '已关注公众号' }],
      remove: [{ group: '生命周期', name: '已取关' }],
    });
    expect(await ruleRefs('取消关注')).toEqual({
      add: [{ group: '生命周期', name: '已取关' }],
      remove: [{ group: '生命周期', name: '已关注公众号' }],
    });
    const audit = await db().dataSource.manager.findOneByOrFail(AuditLog, { action: 'tag.update' });
    expect(audit.detail).toMatchObject({ rulesUpdated: 2 });

    expect(await runQueue()).toMatchObject({ done: 2, failed: 0 });
    expect(stack.sandbox.state.oaTags.get(oaTagId)?.name).toBe('已关注公众号');
    expect(stack.sandbox.state.findCorpTag(wecomTagId)?.tag.name).toBe('已关注公众号');
  });

  it('the next subscribe already gets the renamed tag: the callback path drops its cached rules', async () => {
    const { tag } = await syncedTag('生命周期', '已关注');
    await stack.player().subscribe({}); // loads the rules into the 2 s cache
    await stack.services.reactions.idle();
    expect(await stack.services.tagCatalog.updateTag({ id: tag.id, name: '已关注公众号', actor })).toMatchObject({ ok: true });
    const { openid } = await stack.player().subscribe({});
    await stack.services.reactions.idle();
    const names: { name: string }[] = await db().dataSource.query(
      'SELECT t.name FROM contact_tags ct JOIN tags t ON t.id = ct.tag_id JOIN contact_identities i ON i.contact_id = ct.contact_id WHERE i.value = ?',
      [openid],
    );
    expect(names.map((n) => n.name)).toEqual(['已关注公众号']);
  });

  it('a group rename renames the WeCom tag group and the rules; a later rename back reaches the platform too', async () => {
    const { tag, oaTagId, wecomGroupId } = await syncedTag('展会', 'booth-7');
    const group = await stack.services.tagCatalog.updateTagGroup({ id: tag.groupId, name: '展会2026', actor });
    expect(group.ok).toBe(true);
    await runQueue();
    expect(stack.sandbox.state.corpTagGroups.find((g) => g.groupId === wecomGroupId)?.groupName).toBe('展会2026');

    for (const name of ['booth-8', 'booth-7', 'booth-8']) {
      await stack.services.tagCatalog.updateTag({ id: tag.id, name, actor });
      await runQueue();
      expect(stack.sandbox.state.oaTags.get(oaTagId)?.name).toBe(name);
    }
  });

  it('a deleted tag is deleted on both platforms, and a copy that is already gone counts as done', async () => {
    const { tag, oaTagId, wecomTagId } = await syncedTag('行业', '制造');
    stack.sandbox.state.deleteOaTag(oaTagId); // someone deleted it by hand on the Official Account
    const deleted = await stack.services.tagCatalog.deleteTag({ id: tag.id, actor });
    expect(deleted.ok).toBe(true);
    expect(await runQueue()).toMatchObject({ done: 2, failed: 0 });
    expect(stack.sandbox.state.findCorpTag(wecomTagId)).toBeNull();
    expect(stack.sandbox.state.callsTo('tags/delete')).toHaveLength(1);
  });

  it('deleting a whole group deletes the WeCom tag group', async () => {
    const { tag, wecomGroupId, oaTagId } = await syncedTag('客户等级', 'VIP');
    expect((await stack.services.tagCatalog.deleteTagGroup({ id: tag.groupId, force: true, actor })).ok).toBe(true);
    await runQueue();
    expect(stack.sandbox.state.corpTagGroups.find((g) => g.groupId === wecomGroupId)?.deleted).toBe(true);
    expect(stack.sandbox.state.oaTags.has(oaTagId)).toBe(false);
  });

  it('a name the Official Account already uses fails the task with its errcode, for the operator to see', async () => {
    const { tag } = await syncedTag('渠道', 'expo2026');
    stack.sandbox.state.createOaTag('expo2027');
    await stack.services.tagCatalog.updateTag({ id: tag.id, name: 'expo2027', actor });
    const outcome = await runQueue();
    expect(outcome.done).toBe(1); // WeCom took the new name
    const task = await db().dataSource.manager.findOneByOrFail(Task, { kind: 'oa_tag_catalog_sync' });
    expect(task.lastError).toContain('45157');
  });
});
