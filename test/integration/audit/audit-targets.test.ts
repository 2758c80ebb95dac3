import { AuditLog } from '../../../entities/audit-log.entity';
import { Operator } from '../../../entities/operator.entity';
import { TagGroup } from '../../../entities/tag-group.entity';
import { Tag } from '../../../entities/tag.entity';
import { ManualClock } from '../../../server/adapters/clock';
import { Transactor } from '../../../server/db/transaction';
import { AuditService, describeChanges } from '../../../server/modules/audit/audit.service';
import { ContactsService } from '../../../server/modules/contacts/contacts.service';
import { describeEachDatabase } from '../../support/database';

describeEachDatabase('audit log targets', (db) => {
  const clock = new ManualClock();

  it('names each target (tag as group/name, operator by username, contact by display identity), keeps a deleted one by its kept name', async () => {
    const m = db().dataSource.manager;
    const audit = new AuditService({ dataSource: db().dataSource, clock });
    await m.insert(TagGroup, { name: '购买意向', syncOa: true, syncWecom: true, createdAt: clock.now() });
    const group = await m.findOneByOrFail(TagGroup, { name: '购买意向' });
    await m.insert(Tag, { groupId: group.id, name: '需要发票', createdAt: clock.now() });
    const tag = await m.findOneByOrFail(Tag, { name: '需要发票' });
    await m.insert(Tag, { groupId: group.id, name: '已删除', createdAt: clock.now() });
    const gone = await m.findOneByOrFail(Tag, { name: '已删除' });
    await m.insert(Operator, { username: 'lisi', passwordHash: 'x', role: 'operator', createdAt: clock.now(), updatedAt: clock.now() });
    const lisi = await m.findOneByOrFail(Operator, { username: 'lisi' });
    const { contactId } = await new Transactor(db().dataSource).run((t) =>
      new ContactsService({ clock }).resolveContact(t, { kind: 'oa_openid', appId: 'wxapp', value: 'o_follower_A1b2' }),
    );

    const actor = { operatorId: lisi.id, ip: null };
    await audit.record({ ...actor, action: 'operator.change_password', targetType: 'operator', targetId: lisi.id, detail: {} });
    await audit.record({
      ...actor,
      action: 'tag.update',
      targetType: 'tag',
      targetId: tag.id,
      detail: describeChanges({ name: '要发票' }, { name: '需要发票' }),
    });
    await audit.record({
      ...actor,
      action: 'tag.delete',
      targetType: 'tag',
      targetId: gone.id,
      detail: { group: '购买意向', name: '已删除' },
    });
    await m.delete(Tag, { id: gone.id });
    await audit.record({ ...actor, action: 'contact.update', targetType: 'contact', targetId: contactId, detail: {} });
    await audit.record({ ...actor, action: 'tag_rule.delete', targetType: 'tag_rule', targetId: 999, detail: {} });
    await audit.record({ ...actor, action: 'login' });

    const { items } = await audit.list({ limit: 50 });
    const byAction = new Map(items.map((item) => [item.action, item]));
    expect(byAction.get('operator.change_password')?.target).toEqual({ name: 'lisi' });
    expect(byAction.get('tag.update')?.target).toEqual({ name: '购买意向/需要发票' });
    expect(byAction.get('tag.update')?.detail).toEqual({ changed: ['name'], 'before.name': '要发票', 'after.name': '需要发票' });
    expect(byAction.get('tag.delete')?.target).toEqual({ name: '购买意向/已删除' });
    expect(byAction.get('contact.update')?.target).toMatchObject({ name: null, contact: { kind: 'oa_follower', text: 'A1b2' } });
    expect(byAction.get('tag_rule.delete')?.target).toBeNull();
    expect(byAction.get('login')?.target).toBeNull();
    // A renamed tag reads by its current name in older rows too.
    await m.update(Tag, { id: tag.id }, { name: '需开票' });
    const again = await audit.list({ limit: 50 });
    expect(again.items.find((item) => item.action === 'tag.update')?.target).toEqual({ name: '购买意向/需开票' });
    expect(await m.count(AuditLog)).toBe(6);
  });
});
