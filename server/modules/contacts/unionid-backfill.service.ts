import type { DataSource } from 'typeorm';
import { JobCursor } from '../../../entities/job-cursor.entity';
import type { Clock } from '../../adapters/clock';
import type { Logger } from '../../adapters/logger';
import { MAX_OPENIDS_PER_USER_INFO_BATCH, type OfficialAccountClient } from '../../adapters/official-account.client';
import { PlatformApiError } from '../../adapters/platform-error';
import type { Transactor } from '../../db/transaction';
import type { ContactsService } from './contacts.service';

export interface UnionidBackfillDeps {
  dataSource: DataSource;
  transactor: Transactor;
  contacts: ContactsService;
  officialAccount: OfficialAccountClient;
  oaAppId: string;
  clock: Clock;
  logger: Logger;
}

export interface BackfillOutcome {
  asked: number;
  linked: number;
  /** The sweep reached the last follower (it starts over after `restartAfterMs`). */
  finished: boolean;
}

const CURSOR = 'unionid-backfill';
/** "接口调用频次限制" reached for today: stop, the cursor keeps the place for tomorrow. */
const QUOTA_REACHED = 45009;
const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Followers who existed before Flywheel was installed never sent a subscribe event, so nobody
 * fetched their unionid, and a follower and a WeCom customer who are one person stay two
 * contacts. This sweep asks user/info/batchget for every Official Account openid without a
 * unionid, 100 a call, a bounded number of calls per run (the daily quota is shared with
 * everything else), and links what comes back, merging contacts that turn out to be one person.
 * A cursor in job_cursors keeps the place between runs; a finished sweep starts over after a day,
 * for followers whose account was bound to the open platform since.
 */
export class UnionidBackfillService {
  constructor(private readonly deps: UnionidBackfillDeps) {}

  async runBackfill(params: { maxCalls?: number; restartAfterMs?: number } = {}): Promise<BackfillOutcome> {
    const maxCalls = params.maxCalls ?? 50;
    const outcome: BackfillOutcome = { asked: 0, linked: 0, finished: false };
    let after = await this.readCursor(params.restartAfterMs ?? DAY_MS);
    if (after === null) return { ...outcome, finished: true };
    for (let call = 0; call < maxCalls; call += 1) {
      const batch = await this.nextOpenids(after);
      if (batch.length === 0) {
        outcome.finished = true;
        await this.writeCursor('done');
        return outcome;
      }
      let users;
      try {
        users = await this.deps.officialAccount.batchGetUserInfo(batch.map((b) => b.openid));
      } catch (error) {
        if (error instanceof PlatformApiError && error.errcode === QUOTA_REACHED) {
          this.deps.logger.warn('unionid backfill stopped: daily quota reached', { asked: outcome.asked });
          return outcome;
        }
        throw error;
      }
      outcome.asked += batch.length;
      const contactOf = new Map(batch.map((b) => [b.openid, b.contactId]));
      await this.deps.transactor.runRetrying(async (m) => {
        for (const user of users) {
          const contactId = contactOf.get(user.openid);
          if (contactId === undefined || !user.unionid) continue;
          // linkIdentity follows a contact merged since the openid was read to its survivor.
          await this.deps.contacts.linkIdentity(m, contactId, { kind: 'unionid', appId: '', value: user.unionid });
          outcome.linked += 1;
        }
      });
      after = batch[batch.length - 1].identityId;
      await this.writeCursor(String(after));
    }
    return outcome;
  }

  /** Openids (by identity id, ascending) whose contact has no unionid yet. */
  private async nextOpenids(afterIdentityId: number): Promise<{ identityId: number; openid: string; contactId: number }[]> {
    const rows: { id: number | string; value: string; contact_id: number | string }[] = await this.deps.dataSource.query(
      `SELECT ci.id, ci.value, ci.contact_id FROM contact_identities ci
        WHERE ci.kind = 'oa_openid' AND ci.app_id = ? AND ci.id > ?
          AND NOT EXISTS (SELECT 1 FROM contact_identities u WHERE u.contact_id = ci.contact_id AND u.kind = 'unionid')
        ORDER BY ci.id LIMIT ${MAX_OPENIDS_PER_USER_INFO_BATCH}`,
      [this.deps.oaAppId, afterIdentityId],
    );
    return rows.map((r) => ({ identityId: Number(r.id), openid: r.value, contactId: Number(r.contact_id) }));
  }

  /** The identity id to go on after; null while a finished sweep is younger than restartAfterMs. */
  private async readCursor(restartAfterMs: number): Promise<number | null> {
    const row = await this.deps.dataSource.manager.findOneBy(JobCursor, { name: CURSOR });
    if (!row) return 0;
    if (row.value !== 'done') return Number(row.value) || 0;
    return this.deps.clock.now().getTime() - row.updatedAt.getTime() >= restartAfterMs ? 0 : null;
  }

  private async writeCursor(value: string): Promise<void> {
    await this.deps.dataSource.manager.upsert(JobCursor, { name: CURSOR, value, updatedAt: this.deps.clock.now() }, ['name']);
  }
}
