import { ManualClock } from '../../../server/adapters/clock';
import { SandboxGroupMessages } from '../../../server/adapters/sandbox/sandbox-group-messages';
import { SandboxErrcode } from '../../../server/adapters/sandbox/sandbox-errcode';
import type { SandboxExternalContact } from '../../../server/adapters/sandbox/sandbox-state';

/** 23:59 in Beijing on 7 December. */
const LATE = new Date('2026-12-07T15:59:00.000Z');

describe('the sandbox’s 企业群发 tasks', () => {
  const customer = (id: string, reps: string[]): SandboxExternalContact => ({
    externalUserId: id,
    name: id,
    avatar: '',
    unionid: null,
    followUsers: reps.map((userId) => ({ userId, state: null, createTime: 0, tagIds: [] })),
  });
  const setup = () => {
    const clock = new ManualClock(LATE);
    const contacts = new Map([
      ['wmA', customer('wmA', ['rep1', 'rep2'])],
      ['wmB', customer('wmB', ['rep1'])],
    ]);
    const tasks = new SandboxGroupMessages(clock, contacts);
    tasks.autoConfirmMs = null;
    return { clock, tasks };
  };
  const body = (sender: string, ids: string[]) => ({ chat_type: 'single', sender, external_userid: ids, text: { content: '你好' } });

  it('one 群发 per customer per Beijing day, whichever rep sends it; the next day another', () => {
    const { clock, tasks } = setup();
    const first = tasks.addMsgTemplate(body('rep1', ['wmA', 'wmB']));
    const second = tasks.addMsgTemplate(body('rep2', ['wmA']));
    tasks.confirm(first.msgid);
    tasks.confirm(second.msgid);
    expect(tasks.sendResult(first.msgid, 'rep1').map((l) => [l.external_userid, l.status])).toEqual([
      ['wmA', 1],
      ['wmB', 1],
    ]);
    expect(tasks.sendResult(second.msgid, 'rep2').map((l) => l.status)).toEqual([3]);
    // Two minutes later it is the 8th in Beijing.
    clock.advance(2 * 60_000);
    const third = tasks.addMsgTemplate(body('rep2', ['wmA']));
    tasks.confirm(third.msgid);
    expect(tasks.sendResult(third.msgid, 'rep2').map((l) => l.status)).toEqual([1]);
    expect(tasks.delivered().map((d) => [d.sender, d.externalUserId])).toEqual([
      ['rep1', 'wmA'],
      ['rep1', 'wmB'],
      ['rep2', 'wmA'],
    ]);
  });

  it('the rep confirms by itself after the delay, when the task is next looked at; a withdrawn task never leaves', () => {
    const { clock, tasks } = setup();
    tasks.autoConfirmMs = 60_000;
    const kept = tasks.addMsgTemplate(body('rep1', ['wmA']));
    const withdrawn = tasks.addMsgTemplate(body('rep1', ['wmB']));
    expect(tasks.sendResult(kept.msgid, 'rep1')[0].status).toBe(0);
    tasks.cancel(withdrawn.msgid);
    clock.advance(60_000);
    expect(tasks.sendResult(kept.msgid, 'rep1')[0].status).toBe(1);
    expect(tasks.sendResult(withdrawn.msgid, 'rep1')[0].status).toBe(0);
    expect(tasks.confirmAll()).toEqual([]);
    expect(() => tasks.sendResult('nope', 'rep1')).toThrow(SandboxErrcode);
    expect(() => tasks.sendResult('', 'rep1')).toThrow('msgid missing');
  });
});
