import { randomBytes } from 'node:crypto';
import type { Clock } from '../clock';
import { SandboxErrcode } from './sandbox-errcode';
import type { SandboxExternalContact } from './sandbox-state';

/**
 * WeCom's 企业群发 as the sandbox plays it: externalcontact/add_msg_template creates a task for a
 * member (the rep), nothing leaves until the rep confirms it in the WeCom client, and
 * get_groupmsg_send_result then lists, per customer, whether it was sent.
 * @link https://developer.work.weixin.qq.com/document/path/92135 (add_msg_template)
 * @link https://developer.work.weixin.qq.com/document/path/93338 (get_groupmsg_send_result)
 */

/** get_groupmsg_send_result's status: "0-未发送 1-已发送 2-因客户不是好友导致发送失败 3-因客户已经收到其他群发消息导致发送失败". */
export type SandboxGroupMsgStatus = 0 | 1 | 2 | 3;

export interface SandboxGroupMsgTask {
  msgid: string;
  sender: string;
  /** The customers the task goes to (after the fail_list was taken out). */
  externalUserIds: string[];
  text: string | null;
  attachments: unknown[];
  createdAt: Date;
  /** When the rep confirmed it (the WeCom client's 发送), null while it waits. */
  confirmedAt: Date | null;
  /** The outcome per customer, set when the rep confirms. */
  results: Map<string, { status: SandboxGroupMsgStatus; sendTime: number }>;
  cancelled: boolean;
}

/** "text.content 消息文本内容，最多4000个字节". */
export const GROUP_MSG_MAX_TEXT_BYTES = 4000;
/** "附件，最多支持添加9个附件". */
export const GROUP_MSG_MAX_ATTACHMENTS = 9;
/** "最多可传入1万个客户". */
export const GROUP_MSG_MAX_CUSTOMERS = 10_000;
/** Flywheel's default: the sandbox's rep confirms a task a minute (of the sandbox clock) after it was created. */
export const SANDBOX_REP_CONFIRM_DELAY_MS = 60_000;
const BEIJING_OFFSET_MS = 8 * 3_600_000;

export class SandboxGroupMessages {
  readonly tasks: SandboxGroupMsgTask[] = [];
  /**
   * How long after a task is created its rep confirms it (played lazily, when the task is next
   * looked at); null: only when told (confirm()).
   */
  autoConfirmMs: number | null = SANDBOX_REP_CONFIRM_DELAY_MS;
  /** Customers who got a 群发 per Beijing day (`<external_userid>:<day>`): a customer receives one a day. */
  private readonly receivedOn = new Set<string>();

  constructor(
    private readonly clock: Clock,
    private readonly contacts: ReadonlyMap<string, SandboxExternalContact>,
  ) {}

  /** add_msg_template; returns the msgid and the customers it could not include (fail_list). */
  addMsgTemplate(body: Record<string, unknown>): { msgid: string; failList: string[] } {
    const chatType = body.chat_type ?? 'single';
    if (chatType !== 'single') throw new SandboxErrcode(40058, 'chat_type: the sandbox plays single only');
    const sender = typeof body.sender === 'string' ? body.sender : '';
    const external = Array.isArray(body.external_userid) ? body.external_userid.filter((v): v is string => typeof v === 'string') : [];
    // "external_userid ... 不可与sender同时为空".
    if (sender === '' && external.length === 0) throw new SandboxErrcode(40058, 'sender and external_userid are both empty');
    if (external.length > GROUP_MSG_MAX_CUSTOMERS) throw new SandboxErrcode(40058, 'external_userid: at most 10000');
    const text = readObject(body.text);
    const content = typeof text?.content === 'string' ? text.content : '';
    const attachments = Array.isArray(body.attachments) ? (body.attachments as unknown[]) : [];
    if (content === '' && attachments.length === 0) throw new SandboxErrcode(44004, 'empty content');
    if (Buffer.byteLength(content, 'utf8') > GROUP_MSG_MAX_TEXT_BYTES) throw new SandboxErrcode(45002, 'content size out of limit');
    if (attachments.length > GROUP_MSG_MAX_ATTACHMENTS) throw new SandboxErrcode(40058, 'attachments: at most 9');
    // A member is known here by following at least one customer (the sandbox has no member directory).
    if (sender !== '' && ![...this.contacts.values()].some((c) => c.followUsers.some((f) => f.userId === sender)))
      throw new SandboxErrcode(40003, 'invalid userid');
    for (const id of external) if (!this.contacts.has(id)) throw new SandboxErrcode(40096, 'invalid external userid');
    // Customers the sender does not have as a friend cannot be in the sender's task.
    const failList = sender === '' ? [] : external.filter((id) => !this.isFriend(id, sender));
    const recipients = external.filter((id) => !failList.includes(id));
    // "无可发送的客户".
    if (recipients.length === 0) throw new SandboxErrcode(41048, 'no customer to send to');
    const task: SandboxGroupMsgTask = {
      msgid: `msg${randomBytes(12).toString('base64url')}`,
      sender,
      externalUserIds: recipients,
      text: content === '' ? null : content,
      attachments,
      createdAt: this.clock.now(),
      confirmedAt: null,
      results: new Map(),
      cancelled: false,
    };
    this.tasks.push(task);
    return { msgid: task.msgid, failList };
  }

  /**
   * The rep presses 发送 in the WeCom client: each customer gets the message, unless they are no
   * longer the rep's friend (2) or already got a 群发 this Beijing day (3).
   */
  confirm(msgid: string): SandboxGroupMsgTask {
    const task = this.tasks.find((t) => t.msgid === msgid);
    if (!task) throw new SandboxErrcode(41047, 'invalid msgid');
    if (task.confirmedAt !== null || task.cancelled) return task;
    const now = this.clock.now();
    task.confirmedAt = now;
    const day = beijingDay(now);
    const sendTime = Math.floor(now.getTime() / 1000);
    for (const id of task.externalUserIds) {
      let status: SandboxGroupMsgStatus = 1;
      if (!this.isFriend(id, task.sender)) status = 2;
      else if (this.receivedOn.has(`${id}:${day}`)) status = 3;
      if (status === 1) this.receivedOn.add(`${id}:${day}`);
      task.results.set(id, { status, sendTime: status === 1 ? sendTime : 0 });
    }
    return task;
  }

  /** Every task still waiting for its rep (the control route's "the reps confirm"); returns their msgids. */
  confirmAll(): string[] {
    return this.tasks.filter((t) => t.confirmedAt === null && !t.cancelled).map((t) => this.confirm(t.msgid).msgid);
  }

  /** cancel_groupmsg_send: a task not yet confirmed is withdrawn from the rep. */
  cancel(msgid: string): void {
    const task = this.tasks.find((t) => t.msgid === msgid);
    if (!task) throw new SandboxErrcode(41047, 'invalid msgid');
    if (task.confirmedAt === null) task.cancelled = true;
  }

  /** get_groupmsg_send_result for one member's part of a task. */
  sendResult(
    msgid: string,
    userid: string,
  ): { external_userid: string; userid: string; status: SandboxGroupMsgStatus; send_time?: number }[] {
    if (msgid === '') throw new SandboxErrcode(41046, 'msgid missing');
    const task = this.tasks.find((t) => t.msgid === msgid);
    if (!task) throw new SandboxErrcode(41047, 'invalid msgid');
    this.playRep(task);
    if (userid !== task.sender) return [];
    return task.externalUserIds.map((id) => {
      const result = task.results.get(id);
      const status = result?.status ?? 0;
      return { external_userid: id, userid: task.sender, status, ...(status === 1 ? { send_time: result?.sendTime ?? 0 } : {}) };
    });
  }

  /** The tasks that reached customers' chats: one entry per customer sent to. */
  delivered(): { msgid: string; sender: string; externalUserId: string; text: string | null }[] {
    return this.tasks.flatMap((t) =>
      [...t.results.entries()]
        .filter(([, r]) => r.status === 1)
        .map(([id]) => ({ msgid: t.msgid, sender: t.sender, externalUserId: id, text: t.text })),
    );
  }

  private playRep(task: SandboxGroupMsgTask): void {
    if (task.confirmedAt !== null || task.cancelled || this.autoConfirmMs === null) return;
    if (this.clock.now().getTime() - task.createdAt.getTime() >= this.autoConfirmMs) this.confirm(task.msgid);
  }

  private isFriend(externalUserId: string, userId: string): boolean {
    return this.contacts.get(externalUserId)?.followUsers.some((f) => f.userId === userId) === true;
  }
}

/** The day in Beijing (WeCom's day for its limits), as YYYY-MM-DD. */
function beijingDay(at: Date): string {
  return new Date(at.getTime() + BEIJING_OFFSET_MS).toISOString().slice(0, 10);
}

function readObject(value: unknown): Record<string, unknown> | null {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
}
