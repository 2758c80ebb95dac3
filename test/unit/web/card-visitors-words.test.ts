import { translatorOf } from '../../support/translator';
import en from '../../../web/shared/i18n/en';
import zhCN from '../../../web/shared/i18n/zh-CN';
import { cardBodyOf, cardFormOf, visitorName, visitorRelation, visitorSource } from '../../../web/admin/cards';

const zh = translatorOf(zhCN);

describe("the 名片 screen's words and request body", () => {
  it('names a visitor, how they came (the share chain or directly) and whether they became a contact, and how', () => {
    expect(visitorName({ contactId: 7, name: '赵六' }, zh)).toBe('赵六');
    expect(visitorName({ contactId: 7, name: null }, zh)).toBe('客户 #7');
    const chain = [
      { contactId: 1, name: '张三' },
      { contactId: 2, name: '李四' },
    ];
    expect(visitorSource({ chain }, zh)).toBe('张三 → 李四');
    expect(visitorSource({ chain: [] }, zh)).toBe('直接访问（无转发）');
    expect(visitorRelation({ relation: 'visitor', becameContactBy: null }, zh)).toBe('访客');
    expect(visitorRelation({ relation: 'contact', becameContactBy: 'add_wecom' }, zh)).toBe('已成为联系人（添加企业微信）');
    expect(visitorRelation({ relation: 'contact', becameContactBy: null }, zh)).toBe('已成为联系人');
    expect(visitorRelation({ relation: 'contact', becameContactBy: 'save_contact' }, translatorOf(en))).toBe(
      'Became a contact (Saved to phone contacts)',
    );
  });

  it('sends blank fields as none, trimmed text, and the picked materials in their order', () => {
    const form = { ...cardFormOf(null), title: ' 销售经理 ', phone: '  ', materialIds: [5, 2] };
    expect(cardBodyOf(form)).toEqual({ title: '销售经理', company: null, phone: null, avatarUrl: null, intro: null, materialIds: [5, 2] });
  });
});
