import { groupsWithTags, nameFormErrors, syncColour, syncProblem, withoutRetried } from '../../../web/admin/screens';
import type { TagGroupView, TagView } from '../../../web/shared/types';

const group = (id: number, name: string): TagGroupView => ({
  id,
  name,
  syncOa: true,
  syncWecom: false,
  wecomGroupId: null,
  tagCount: 0,
  createdAt: '2026-11-01T00:00:00.000Z',
});
const tag = (id: number, groupId: number, name: string): TagView => ({ id, groupId, group: '', name, contactCount: 0 });

describe('the tags screen', () => {
  it('colours each sync state, and explains a failure by its errcode and meaning, else by the error', () => {
    expect((['none', 'pending', 'done', 'failed'] as const).map(syncColour)).toEqual(['info', 'warning', 'success', 'danger']);
    const catalogue: Record<string, string> = {
      'labels.errcodes.e45159': '无效的标签 ID',
      'errors.sync.platform_errcode': '平台返回错误码 {errcode}',
      'errors.sync.tag_name_oa_bytes': '超过 {max} 字节',
      'errors.sync.failed': '同步失败',
    };
    const tr = {
      has: (key: string) => key in catalogue,
      t: (key: string, params?: Record<string, unknown>) =>
        (catalogue[key] ?? key).replace(/\{(\w+)\}/g, (_, n: string) => String(params?.[n])),
    };
    const failed = { state: 'failed' as const, error: '... errcode 45159 ...' };
    expect(syncProblem({ ...failed, errcode: 45159, meaning: 'invalid tag id', code: 'platform_errcode' }, tr)).toBe('45159 无效的标签 ID');
    expect(syncProblem({ ...failed, errcode: 40999, code: 'platform_errcode' }, tr)).toBe('平台返回错误码 40999');
    expect(syncProblem({ ...failed, code: 'tag_name_oa_bytes', params: { max: 30 } }, tr)).toBe('超过 30 字节');
    expect(syncProblem({ state: 'failed', error: 'connect ECONNREFUSED' }, tr)).toBe('同步失败');
    expect(syncProblem({ state: 'done' }, tr)).toBe('');
  });

  it('lists groups in pinyin order with their own tags by name, empty groups included', () => {
    const sections = groupsWithTags(
      [group(2, '渠道'), group(1, '兴趣'), group(3, '空')],
      [tag(10, 2, 'b'), tag(11, 1, 'x'), tag(12, 2, 'a'), tag(13, 99, 'orphan')],
    );
    expect(sections.map((s) => [s.group.name, s.tags.map((t) => t.name)])).toEqual([
      ['空', []],
      ['渠道', ['a', 'b']],
      ['兴趣', ['x']],
    ]);
  });

  it('files a 409 on a create or rename under the name field, and keeps validation issues as they are', () => {
    expect(nameFormErrors(409, { code: 'conflict', message: 'The name is already taken' }, {}, '名称已被使用')).toEqual({
      name: '名称已被使用',
    });
    expect(nameFormErrors(400, { code: 'bad_request', message: '' }, { groupId: '请选择标签组' }, '名称已被使用')).toEqual({
      groupId: '请选择标签组',
    });
  });
});

describe('the failed-work screen', () => {
  it('drops the retried rows and keeps the rest in order', () => {
    expect(withoutRetried([{ id: 5 }, { id: 4 }, { id: 3 }], [4])).toEqual([{ id: 5 }, { id: 3 }]);
  });
});
