import { ContactTag } from '../../../entities/contact-tag.entity';
import { Tag } from '../../../entities/tag.entity';
import { TagGroup } from '../../../entities/tag-group.entity';
import { describeEachDatabase } from '../../support/database';
import { drainTasks } from '../../support/leases';
import { startTestStack, type TestStack } from '../../support/test-stack';

describeEachDatabase('WeCom corp tag edits come back through change_external_tag', (db) => {
  let stack: TestStack;
  beforeEach(async () => {
    stack = await startTestStack(db());
  });
  afterEach(async () => {
    await stack.close();
  });

  const player = () => stack.player();
  const localTags = async () => {
    await stack.services.reactions.idle();
    return (await db().dataSource.manager.find(Tag, { order: { name: 'ASC' } })).map((t) => ({ name: t.name, wecomTagId: t.wecomTagId }));
  };

  it('create, rename and delete of tags and groups made in the WeCom console are mirrored', async () => {
    const { group, created } = stack.sandbox.state.addCorpTags({ groupName: '客户等级', tagNames: ['VIP', '普通'] });
    const [vip, normal] = created;
    const create = await player().changeExternalTag({ changeType: 'create', tagIds: [vip.id, normal.id], tagType: 'tag' });
    expect(create.status).toBe(200);
    expect(await localTags()).toEqual([
      { name: 'VIP', wecomTagId: vip.id },
      { name: '普通', wecomTagId: normal.id },
    ]);
    const localGroup = await db().dataSource.manager.findOneByOrFail(TagGroup, { name: '客户等级' });
    expect(localGroup.wecomGroupId).toBe(group.groupId);

    vip.name = 'SVIP';
    await player().changeExternalTag({ changeType: 'update', tagIds: [vip.id], tagType: 'tag' });
    expect((await localTags()).map((t) => t.name)).toEqual(['SVIP', '普通']);

    // A customer holding the tag loses it with the tag.
    const { contactId } = await stack.services.transactor.run((m) =>
      stack.services.contacts.resolveContact(m, { kind: 'external_userid', appId: stack.config.wecom.corpId, value: 'wm_x' }),
    );
    const normalLocal = await db().dataSource.manager.findOneByOrFail(Tag, { wecomTagId: normal.id });
    await db().dataSource.manager.insert(ContactTag, { contactId, tagId: normalLocal.id, source: 'wecom', createdAt: stack.clock.now() });
    normal.deleted = true;
    await player().changeExternalTag({ changeType: 'delete', tagIds: [normal.id], tagType: 'tag' });
    expect((await localTags()).map((t) => t.name)).toEqual(['SVIP']);
    expect(await db().dataSource.manager.countBy(ContactTag, { contactId })).toBe(0);

    await player().changeExternalTag({ changeType: 'delete', tagIds: [group.groupId], tagType: 'tag_group' });
    expect(await localTags()).toEqual([]);
  });

  it('the same push delivered twice is processed once', async () => {
    const { created } = stack.sandbox.state.addCorpTags({ groupName: '行业', tagNames: ['制造'] });
    const first = await player().changeExternalTag({ changeType: 'create', tagIds: [created[0].id], tagType: 'tag' });
    await player().replay(first);
    await stack.services.reactions.idle();
    expect(stack.sandbox.state.callsTo('externalcontact/get_corp_tag_list')).toHaveLength(1);
    expect(await localTags()).toEqual([{ name: '制造', wecomTagId: created[0].id }]);
  });
});

describeEachDatabase('WeCom tag groups and the Official Account', (db) => {
  let stack: TestStack;
  beforeEach(async () => {
    stack = await startTestStack(db());
  });
  afterEach(async () => {
    await stack.close();
  });

  it('a group first seen in WeCom is not mirrored to the Official Account; a tag deleted in WeCom deletes its Official Account copy', async () => {
    const { created } = stack.sandbox.state.addCorpTags({ groupName: '客户意向', tagNames: ['高意向'] });
    await stack.player().changeExternalTag({ changeType: 'create', tagIds: [created[0].id], tagType: 'tag' });
    await stack.services.reactions.idle();
    const m = db().dataSource.manager;
    expect(await m.findOneByOrFail(TagGroup, { name: '客户意向' })).toMatchObject({ syncOa: false, syncWecom: true });

    // An operator chose to mirror it, so the tag got an Official Account copy.
    const local = await m.findOneByOrFail(Tag, { wecomTagId: created[0].id });
    const oaTag = stack.sandbox.state.createOaTag('高意向');
    await m.update(Tag, { id: local.id }, { oaTagId: oaTag.id });

    created[0].deleted = true;
    await stack.player().changeExternalTag({ changeType: 'delete', tagIds: [created[0].id], tagType: 'tag' });
    await stack.services.reactions.idle();
    await drainTasks(stack.services.queue, { handlers: stack.services.tagSync.handlers() });
    expect(stack.sandbox.state.oaTags.has(oaTag.id)).toBe(false);
    // Not deleted in WeCom again: it is gone there already.
    expect(stack.sandbox.state.callsTo('externalcontact/del_corp_tag')).toHaveLength(0);
  });
});
