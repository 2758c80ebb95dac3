import type { DataSource } from 'typeorm';
import type { ChannelWelcomeState } from '../../../entities/channel-welcome.entity';
import type { Clock } from '../../adapters/clock';
import type { Logger } from '../../adapters/logger';
import { PlatformApiError, PlatformTransportError } from '../../adapters/platform-error';
import type { WecomClient } from '../../adapters/wecom.client';
import { isUniqueViolation } from '../../db/errors';
import { toSqlDate } from '../../db/sql';

/** "企业可以在收到相关事件后20秒内调用" (send_welcome_msg). */
export const WELCOME_CODE_TTL_MS = 20_000;
/** "后续调用将返回41051(externaluser has started chatting)错误": the customer was welcomed already. */
export const ERRCODE_ALREADY_WELCOMED = 41051;

export interface SendWelcomeParams {
  welcomeCode: string;
  channelId: number;
  interactionId: number;
  text: string;
  /** The add event's CreateTime: the code is valid for 20 s from it. */
  occurredAt: Date;
}

/**
 * The WeCom welcome of a channel, sent at most once per WelcomeCode: the row is claimed as
 * `sending` (its unique code is the send's key) and committed before the request leaves, so a
 * replayed reaction finds it and sends nothing. The answer decides the end state; no answer is
 * `unknown` and never retried (a second welcome is worse than none, and the code lives 20 s).
 */
export class ChannelWelcomeSender {
  constructor(private readonly deps: { dataSource: DataSource; clock: Clock; logger: Logger; wecom: WecomClient }) {}

  async send(p: SendWelcomeParams): Promise<ChannelWelcomeState | 'duplicate'> {
    const late = this.deps.clock.now().getTime() - p.occurredAt.getTime() > WELCOME_CODE_TTL_MS;
    const initial: ChannelWelcomeState = late ? 'expired' : 'sending';
    if (!(await this.claim(p, initial))) return 'duplicate';
    if (late) {
      this.deps.logger.warn('welcome code expired before it could be used', { channelId: p.channelId, interactionId: p.interactionId });
      return 'expired';
    }
    try {
      await this.deps.wecom.sendWelcomeMsg({ welcomeCode: p.welcomeCode, text: p.text });
      await this.finish(p.welcomeCode, 'sent', null);
      return 'sent';
    } catch (error) {
      if (error instanceof PlatformApiError) {
        const state: ChannelWelcomeState = error.errcode === ERRCODE_ALREADY_WELCOMED ? 'already_sent' : 'failed';
        this.deps.logger.warn('welcome message not sent', { channelId: p.channelId, errcode: error.errcode, state });
        await this.finish(p.welcomeCode, state, error.errcode);
        return state;
      }
      if (error instanceof PlatformTransportError && error.refusedBeforeSending) {
        // Nothing left this machine: the claim is released and the reaction retried (if the 20 s
        // are over by then, the row is written as expired).
        await this.deps.dataSource.query("DELETE FROM channel_welcomes WHERE welcome_code = ? AND state = 'sending'", [p.welcomeCode]);
        throw error;
      }
      if (error instanceof PlatformTransportError) {
        this.deps.logger.warn('welcome message answer lost; not sent again', { channelId: p.channelId, failure: error.failure });
        await this.finish(p.welcomeCode, 'unknown', null);
        return 'unknown';
      }
      throw error;
    }
  }

  private async claim(p: SendWelcomeParams, state: ChannelWelcomeState): Promise<boolean> {
    const now = toSqlDate(this.deps.clock.now());
    try {
      await this.deps.dataSource.query(
        'INSERT INTO channel_welcomes (welcome_code, channel_id, interaction_id, state, errcode, created_at, updated_at) VALUES (?, ?, ?, ?, NULL, ?, ?)',
        [p.welcomeCode, p.channelId, p.interactionId, state, now, now],
      );
      return true;
    } catch (error) {
      if (isUniqueViolation(error)) return false;
      throw error;
    }
  }

  private async finish(welcomeCode: string, state: ChannelWelcomeState, errcode: number | null): Promise<void> {
    await this.deps.dataSource.query('UPDATE channel_welcomes SET state = ?, errcode = ?, updated_at = ? WHERE welcome_code = ?', [
      state,
      errcode,
      toSqlDate(this.deps.clock.now()),
      welcomeCode,
    ]);
  }
}
