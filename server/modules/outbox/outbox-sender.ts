import { randomBytes } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import type { OutboxAttemptOutcome } from '../../../entities/outbox-attempt.entity';
import type { InteractionDetail } from '../../../entities/interaction.entity';
import type { OutboxChannel, OutboxState } from '../../../entities/outbox-message.entity';
import type { OutboxConfig } from '../../../config/outbox.config';
import type { Clock } from '../../adapters/clock';
import type { Logger } from '../../adapters/logger';
import { PlatformApiError, PlatformTransportError } from '../../adapters/platform-error';
import { claimMethodFor, databaseNowSql, databaseTimeFromNow, type ClaimMethod } from '../../db/lease-queue';
import { beginWriting, fromSqlDate, isMysqlManager, placeholders, toSqlDate } from '../../db/sql';
import type { Transactor } from '../../db/transaction';
import type { InteractionDraft, InteractionsService } from '../interactions/interactions.service';
import type { ChannelDriver, OutboxRow, Refusal, SendAccepted, SendPlan } from './channel-driver';
import { contactQuietHoursEnd, nextShanghaiMidnight } from './quiet-hours';
import type { SendBudget } from './send-budget';

export interface OutboxSenderDeps {
  dataSource: DataSource;
  transactor: Transactor;
  clock: Clock;
  logger: Logger;
  interactions: InteractionsService;
  budget: SendBudget;
  config: OutboxConfig;
  /** BUSINESS_TIMEZONE: quiet hours are its wall clock for contacts without a zone of their own. */
  timeZone: string;
  /** This instance's id; claims carry it with random bytes. */
  holder: string;
  /** One per channel this instance can send; the rows of a channel without a driver wait. */
  drivers: ChannelDriver[];
  /** How long a claim owns its rows; past it a row still `sending` is lost (unknown, or retried under its key). */
  leaseMs?: number;
  /** Forces the portable claim (tests of that path on MariaDB). */
  claimMethod?: ClaimMethod;
}

export interface SendPassResult {
  sent: number;
  /** Rows claimed in the pass (whatever their outcome). */
  claimed: number;
  /** Rows of the pass's last claim were as many as asked for: more may be due. */
  more: boolean;
}

/** What happened to one claimed row. */
interface Outcome {
  state: OutboxState;
  /** The delivery log's word for the attempt; null: not an attempt (a quiet-hours deferral). */
  log: OutboxAttemptOutcome | null;
  errcode: number | null;
  error: string | null;
  msgid: string | null;
  notBefore: Date | null;
  /** What first_attempt_at becomes: the start of the oldest attempt that may have been accepted. */
  firstAttemptAt: Date | null;
  /** The attempt counter after this outcome (a deferral gives its claim's count back). */
  attempts: number;
  /** The platform's quota is spent: the channel pauses until notBefore. */
  quota?: boolean;
}

interface ClaimedRow extends OutboxRow {
  /** first_attempt_at before this claim: an earlier attempt whose outcome is not known. */
  priorFirstAttemptAt: Date | null;
  /** first_attempt_at as this claim left it. */
  firstAttemptAt: Date | null;
  /** The contact's own time zone (contacts.time_zone): its quiet hours are its wall clock's. */
  timeZone: string | null;
}

/** A claimed row as the load's query returns it (ids may come back as strings on MySQL). */
interface ClaimedRaw {
  id: number | string;
  contact_id: number | string;
  purpose: OutboxRow['purpose'];
  source_type: string;
  source_id: string;
  run_id: number | string | null;
  node_id: string | null;
  payload: string;
  attempts: number | string;
  first_attempt_at: unknown;
  claimed_until: unknown;
  time_zone: string | null;
  db_now: unknown;
}

const DEFAULT_LEASE_MS = 60_000;
/** The sweep hands a lost row back only while a minute of its key's window is left for the claim. */
const SWEEP_MARGIN_MS = 60_000;
/** Known refusals (busy, too frequent, connection refused) retried this many times before failing. */
const MAX_ATTEMPTS = 6;
const MAX_ERROR_LENGTH = 255;

/**
 * WeChat's errcodes every channel shares. 43004 (not following) proves the platform did not accept
 * the message and will not on a retry; 45009 (quota), -1 (busy), 45011 (too frequent) and the
 * access-token codes are refusals too, but a later try may pass. A driver's own codes come first.
 */
const RETRY_ERRCODES: ReadonlySet<number> = new Set([-1, 45011, 40001, 40014, 42001]);

/**
 * Sends the outbox (docs/ARCHITECTURE.md, "The outbox"). Each batch: take send tokens from the
 * shared budget, claim that many due rows and commit them as `sending` before any request leaves,
 * check the rules (quiet hours, frequency cap, template rules, a recipient), send in parallel with
 * bounded concurrency, then write every outcome, the delivery log and the interactions in one
 * transaction of a constant number of statements. A row whose outcome is not known is never sent
 * again, except inside the window of a key the platform dedupes (template/send's client_msg_id).
 * What differs per channel (recipient, checks, request, errcodes) is its driver's.
 */
export class OutboxSender {
  private readonly leaseMs: number;
  private readonly drivers: ReadonlyMap<OutboxChannel, ChannelDriver>;
  private running: Promise<void> | null = null;
  private again = false;
  private stopping = false;

  constructor(private readonly deps: OutboxSenderDeps) {
    this.leaseMs = deps.leaseMs ?? DEFAULT_LEASE_MS;
    this.drivers = new Map(deps.drivers.map((d) => [d.channel, d]));
  }

  /** The channels this instance can send (the others' rows wait). */
  channels(): OutboxChannel[] {
    return [...this.drivers.keys()];
  }

  /** The budget bucket of a channel: per account and channel. */
  bucketOf(channel: OutboxChannel): string {
    return `${this.drivers.get(channel)?.account ?? 'none'}:${channel}`;
  }

  private driverOf(channel: OutboxChannel): ChannelDriver {
    const driver = this.drivers.get(channel);
    if (!driver) throw new Error(`no driver for the outbox channel ${channel}`);
    return driver;
  }

  /**
   * Asks for a send loop soon (after a broadcast was expanded, a journey step enqueued): it runs
   * batches while rows are due and tokens are there, then ends; the cron job picks up the rest.
   */
  kick(): void {
    if (this.stopping) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.loop()
      .catch((error: unknown) => this.deps.logger.error('outbox send loop failed', { error }))
      .finally(() => {
        this.running = null;
        if (this.again) {
          this.again = false;
          this.kick();
        }
      });
  }

  stop(): void {
    this.stopping = true;
  }

  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private async loop(): Promise<void> {
    for (let i = 0; i < 10_000 && !this.stopping; i += 1) {
      const pass = await this.sendDue();
      if (!pass.more) return;
    }
  }

  /**
   * One pass over every channel: recovers rows lost in `sending`, then sends up to a batch per
   * channel. Returns what it did; `more` when a channel had a full batch (call again).
   */
  async sendDue(): Promise<SendPassResult> {
    await this.recoverLost();
    const result: SendPassResult = { sent: 0, claimed: 0, more: false };
    for (const channel of this.channels()) {
      const pass = await this.sendBatch(channel);
      result.sent += pass.sent;
      result.claimed += pass.claimed;
      result.more = result.more || pass.more;
    }
    return result;
  }

  /**
   * When the next pending row of a channel this sender sends falls due after `after` (a journey's
   * scheduled push, a row held for quiet hours or a quota pause): the sandbox clock steps there.
   */
  async nextDueAt(after: Date): Promise<Date | null> {
    const channels = this.channels();
    if (channels.length === 0) return null;
    const rows = await this.deps.dataSource.query<{ due: unknown }[]>(
      `SELECT MIN(not_before) AS due FROM outbox_messages WHERE state = 'pending' AND channel IN (${placeholders(channels.length)}) AND not_before > ?`,
      [...channels, toSqlDate(after)],
    );
    const due = rows[0]?.due;
    return due === null || due === undefined ? null : fromSqlDate(due);
  }

  /**
   * Sends until nothing is due (tests, the sandbox clock, the bench). Bounded by `maxPasses`. A
   * send loop a kick started is waited for first: the rows it holds are claimed, so a pass would
   * not see them and would return while they are still going out.
   */
  async drain(maxPasses = 100_000): Promise<number> {
    await this.idle();
    let sent = 0;
    for (let i = 0; i < maxPasses; i += 1) {
      const pass = await this.sendDue();
      sent += pass.sent;
      if (!pass.more && pass.claimed === 0) return sent;
    }
    return sent;
  }

  /**
   * Rows left in `sending` past their claim: their worker died or hung after the request may have
   * left. A row of a channel with an idempotency key goes back to pending while the key's window
   * lasts (the re-send carries the same key, so the platform sends it at most once); every other
   * becomes `unknown`, for good, with a line in the delivery log.
   */
  async recoverLost(): Promise<number> {
    // A row another instance has locked is having its outcome written: skip it, do not wait for it.
    const skipLocked = (this.deps.claimMethod ?? (await claimMethodFor(this.deps.dataSource))) === 'skip-locked';
    return this.deps.transactor.runRetrying(
      async (m) => {
        await beginWriting(m);
        const now = databaseNowSql(m);
        const lock = isMysqlManager(m) ? (skipLocked ? ' FOR UPDATE SKIP LOCKED' : ' FOR UPDATE') : '';
        const keyed = [...this.drivers.values()].filter((d) => d.idempotencyWindowMs !== null);
        const retryable = keyed.map(
          (d) =>
            `WHEN channel = '${d.channel}' AND first_attempt_at > ${this.ago(m, (d.idempotencyWindowMs ?? 0) - SWEEP_MARGIN_MS)} THEN 1`,
        );
        const lost: { id: number | string; attempts: number | string; retry: number | string }[] = await m.query(
          `SELECT id, attempts, CASE WHEN 1 = 0 THEN 1 ${retryable.join(' ')} ELSE 0 END AS retry
           FROM outbox_messages WHERE state = 'sending' AND claimed_until < ${now} ORDER BY id LIMIT 1000${lock}`,
        );
        if (lost.length === 0) return 0;
        const at = this.deps.clock.now();
        const retry = lost.filter((r) => Number(r.retry) === 1).map((r) => Number(r.id));
        const unknown = lost.filter((r) => Number(r.retry) !== 1).map((r) => Number(r.id));
        if (retry.length > 0)
          await m.query(
            `UPDATE outbox_messages SET state = 'pending', not_before = ?, claimed_by = NULL, claimed_until = NULL, updated_at = ?
             WHERE state = 'sending' AND id IN (${placeholders(retry.length)})`,
            [toSqlDate(at), toSqlDate(at), ...retry],
          );
        if (unknown.length > 0)
          await m.query(
            `UPDATE outbox_messages SET state = 'unknown', claimed_by = NULL, claimed_until = NULL, last_error = ?, updated_at = ?
             WHERE state = 'sending' AND id IN (${placeholders(unknown.length)})`,
            ['lost_while_sending', toSqlDate(at), ...unknown],
          );
        await this.insertAttempts(
          m,
          lost.map((r) => ({
            id: Number(r.id),
            attempt: Number(r.attempts),
            outcome: Number(r.retry) === 1 ? ('retry' as const) : ('unknown' as const),
            errcode: null,
            error: 'lost_while_sending',
          })),
        );
        this.deps.logger.warn('outbox rows lost while sending', { retried: retry.length, unknown: unknown.length });
        return lost.length;
      },
      { readCommitted: true },
    );
  }

  private async sendBatch(channel: OutboxChannel): Promise<SendPassResult> {
    // Most passes find nothing due: one index probe then, not the budget's reads and writes and the
    // claim's transaction (about eight statements a channel, every 5 s, in a burst with the other jobs).
    const due: unknown[] = await this.deps.dataSource.query(
      "SELECT 1 FROM outbox_messages WHERE state = 'pending' AND channel = ? AND not_before <= ? LIMIT 1",
      [channel, toSqlDate(this.deps.clock.now())],
    );
    if (due.length === 0) return { sent: 0, claimed: 0, more: false };
    const bucket = this.bucketOf(channel);
    if (await this.deps.budget.pausedUntil(bucket)) return { sent: 0, claimed: 0, more: false };
    const wanted = this.deps.config.batchSize;
    const tokens = await this.deps.budget.take(bucket, wanted);
    if (tokens === 0) {
      // The budget is spent for now: wait for a token's worth, and say more is due.
      await new Promise((resolve) => setTimeout(resolve, this.deps.budget.msPerToken(bucket)));
      return { sent: 0, claimed: 0, more: true };
    }
    const token = `${this.deps.holder.slice(0, 48)}#${randomBytes(6).toString('hex')}`;
    const ids = await this.claim(channel, tokens, token);
    if (ids.length < tokens) await this.deps.budget.giveBack(bucket, tokens - ids.length);
    if (ids.length === 0) return { sent: 0, claimed: 0, more: false };
    const rows = await this.loadClaimed(ids);
    const outcomes = await this.decideAndSend(channel, rows.rows, rows.dbNow);
    await this.writeOutcomes(channel, token, rows.rows, outcomes);
    const sent = [...outcomes.values()].filter((o) => o.state === 'sent').length;
    // Every granted token found a row: more may be due (a short grant means the budget, not the rows, ran out).
    return { sent, claimed: ids.length, more: ids.length === tokens };
  }

  /**
   * Claims up to `limit` due pending rows of the channel and commits them as `sending`. MySQL 8 /
   * MariaDB 10.6+: one short READ COMMITTED transaction, candidates locked with SKIP LOCKED so two
   * instances take disjoint rows. SQLite (one writer) and TiDB (no SKIP LOCKED): a guarded UPDATE
   * that matches only rows still pending, then the rows read back by id and claim token.
   */
  private async claim(channel: OutboxChannel, limit: number, token: string): Promise<number[]> {
    const method = this.deps.claimMethod ?? (await claimMethodFor(this.deps.dataSource));
    const skipLocked = method === 'skip-locked';
    return this.deps.transactor.runRetrying(
      async (m) => {
        await beginWriting(m);
        const candidates: { id: number | string }[] = await m.query(
          `SELECT id FROM outbox_messages WHERE state = 'pending' AND channel = ? AND not_before <= ?
           ORDER BY not_before, id LIMIT ${Math.max(1, Math.floor(limit))}${skipLocked ? ' FOR UPDATE SKIP LOCKED' : ''}`,
          [channel, toSqlDate(this.deps.clock.now())],
        );
        if (candidates.length === 0) return [];
        const ids = candidates.map((c) => Number(c.id));
        const until = databaseTimeFromNow(m, this.leaseMs);
        await m.query(
          `UPDATE outbox_messages SET state = 'sending', claimed_by = ?, claimed_until = ${until.sql}, attempts = attempts + 1,
             first_attempt_at = COALESCE(first_attempt_at, ${databaseNowSql(m)}), updated_at = ?
           WHERE state = 'pending' AND id IN (${placeholders(ids.length)})`,
          [token, ...until.params, toSqlDate(this.deps.clock.now()), ...ids],
        );
        if (skipLocked) return ids;
        const got: { id: number | string }[] = await m.query(
          `SELECT id FROM outbox_messages WHERE id IN (${placeholders(ids.length)}) AND claimed_by = ? AND state = 'sending'`,
          [...ids, token],
        );
        return got.map((g) => Number(g.id));
      },
      { readCommitted: true },
    );
  }

  /**
   * The claimed rows and the database's time. first_attempt_at
   * before the claim is the row's only if it was set before: the claim wrote the database's now,
   * so a value older than the claim's lease is an earlier attempt's.
   */
  private async loadClaimed(ids: number[]): Promise<{ rows: ClaimedRow[]; dbNow: Date }> {
    const m = this.deps.dataSource.manager;
    const raw: ClaimedRaw[] = await m.query(
      `SELECT o.id, o.contact_id, o.purpose, o.source_type, o.source_id, o.run_id, o.node_id, o.payload, o.attempts,
              o.first_attempt_at, o.claimed_until, c.time_zone, ${databaseNowSql(m)} AS db_now
       FROM outbox_messages o LEFT JOIN contacts c ON c.id = o.contact_id
       WHERE o.id IN (${placeholders(ids.length)}) ORDER BY o.id`,
      ids,
    );
    const rows: ClaimedRow[] = [];
    let dbNow = this.deps.clock.now();
    for (const r of raw) {
      const id = Number(r.id);
      dbNow = fromSqlDate(r.db_now);
      const first = r.first_attempt_at === null ? null : fromSqlDate(r.first_attempt_at);
      const claimedAt = r.claimed_until === null ? null : new Date(fromSqlDate(r.claimed_until).getTime() - this.leaseMs);
      rows.push({
        id,
        contactId: Number(r.contact_id),
        purpose: r.purpose,
        sourceType: r.source_type,
        sourceId: r.source_id,
        runId: r.run_id === null ? null : Number(r.run_id),
        nodeId: r.node_id,
        payload: safeJson(r.payload),
        attempts: Number(r.attempts),
        priorFirstAttemptAt: first && claimedAt && first.getTime() < claimedAt.getTime() ? first : null,
        firstAttemptAt: first,
        timeZone: r.time_zone ?? null,
      });
    }
    return { rows, dbNow };
  }

  /** The rules before a send (the sender's, then the driver's), then the sends (at most `concurrency` in flight). */
  private async decideAndSend(channel: OutboxChannel, rows: ClaimedRow[], dbNow: Date): Promise<Map<number, Outcome>> {
    const driver = this.driverOf(channel);
    const outcomes = new Map<number, Outcome>();
    const now = this.deps.clock.now();
    const known = (row: ClaimedRow, o: Partial<Outcome> & Pick<Outcome, 'state' | 'log'>): Outcome => ({
      errcode: null,
      error: null,
      msgid: null,
      notBefore: null,
      // Nothing left: the row's earlier uncertain attempt (if any) is still the one to time.
      firstAttemptAt: row.priorFirstAttemptAt,
      attempts: row.attempts,
      ...o,
    });
    const capCounts = await this.countRecentSends(channel, rows);
    const cap = this.deps.config.frequencyCaps[channel];
    const checked: ClaimedRow[] = [];
    for (const row of rows) {
      if (row.priorFirstAttemptAt && dbNow.getTime() - row.priorFirstAttemptAt.getTime() > (driver.idempotencyWindowMs ?? 0)) {
        // An earlier attempt may have been accepted and the platform no longer dedupes its key.
        outcomes.set(row.id, known(row, { state: 'unknown', log: 'unknown', error: 'client_msg_id_expired' }));
        continue;
      }
      const marketing = row.purpose === 'marketing';
      const quiet =
        marketing && this.deps.config.quietHours
          ? contactQuietHoursEnd(now, row.timeZone, this.deps.timeZone, this.deps.config.quietHours)
          : null;
      if (quiet) {
        outcomes.set(row.id, known(row, { state: 'pending', log: null, notBefore: quiet, attempts: row.attempts - 1 }));
        continue;
      }
      if (marketing && cap && row.priorFirstAttemptAt === null) {
        const count = capCounts.get(row.contactId) ?? 0;
        if (count >= cap.count) {
          outcomes.set(row.id, known(row, { state: 'skipped', log: 'skipped', error: 'frequency_cap' }));
          continue;
        }
        capCounts.set(row.contactId, count + 1);
      }
      checked.push(row);
    }
    const plans = checked.length > 0 ? await driver.plan(checked, this.deps.dataSource.manager) : new Map<number, SendPlan>();
    const toSend: { row: ClaimedRow; request: () => Promise<SendAccepted> }[] = [];
    for (const row of checked) {
      const plan: SendPlan = plans.get(row.id) ?? { kind: 'fail', reason: 'not_planned' };
      if (plan.kind === 'send') toSend.push({ row, request: plan.request });
      else if (plan.kind === 'skip') outcomes.set(row.id, known(row, { state: 'skipped', log: 'skipped', error: plan.reason }));
      else outcomes.set(row.id, known(row, { state: 'failed', log: 'failed', error: plan.reason }));
    }
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < toSend.length) {
        const { row, request } = toSend[next];
        next += 1;
        outcomes.set(row.id, await this.sendOne(driver, row, request));
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.deps.config.concurrency, toSend.length) }, worker));
    return outcomes;
  }

  /** One request and what its answer (or its absence) means for the row. */
  private async sendOne(driver: ChannelDriver, row: ClaimedRow, send: () => Promise<SendAccepted>): Promise<Outcome> {
    const base = { msgid: null, notBefore: null, attempts: row.attempts };
    try {
      const accepted = await send();
      const state = accepted.state ?? 'sent';
      return { ...base, state, log: 'sent', errcode: null, error: null, msgid: accepted.msgid, firstAttemptAt: row.firstAttemptAt };
    } catch (error) {
      const refused = { ...base, firstAttemptAt: row.priorFirstAttemptAt };
      const refusal = driver.classify?.(error) ?? defaultRefusal(error);
      if (refusal) {
        const { outcome, errcode, reason } = refusal;
        if (outcome === 'skip') return { ...refused, state: 'skipped', log: 'skipped', errcode, error: reason };
        if (outcome === 'quota')
          return { ...refused, state: 'pending', log: 'retry', errcode, error: reason, notBefore: this.quotaResumesAt(), quota: true };
        if (outcome === 'retry' && row.attempts < MAX_ATTEMPTS)
          return { ...refused, state: 'pending', log: 'retry', errcode, error: truncate(reason), notBefore: this.backoff(row.attempts) };
        return { ...refused, state: 'failed', log: 'failed', errcode, error: truncate(reason) };
      }
      // Timeout, a dropped connection, a 5xx, an answer that is not JSON: the request may have been
      // accepted. A channel with an idempotency key is retried with it while the window lasts (the
      // claim checks the window again); anything else is unknown for good.
      const reason = error instanceof PlatformTransportError ? error.failure : 'send_error';
      this.deps.logger.warn('outbox send outcome unknown', { id: row.id, channel: driver.channel, reason });
      const uncertain = { ...base, errcode: null, error: `uncertain: ${reason}`, firstAttemptAt: row.firstAttemptAt };
      if (driver.idempotencyWindowMs !== null) return { ...uncertain, state: 'pending', log: 'retry', notBefore: this.deps.clock.now() };
      return { ...uncertain, state: 'unknown', log: 'unknown' };
    }
  }

  /** Sends of the channel each contact had in the cap's period, not counting this batch. */
  private async countRecentSends(channel: OutboxChannel, rows: ClaimedRow[]): Promise<Map<number, number>> {
    const cap = this.deps.config.frequencyCaps[channel];
    const counts = new Map<number, number>();
    const contacts = [...new Set(rows.filter((r) => r.purpose === 'marketing').map((r) => r.contactId))];
    if (!cap || contacts.length === 0) return counts;
    const since = new Date(this.deps.clock.now().getTime() - cap.hours * 3_600_000);
    const found: { contact_id: number | string; n: number | string }[] = await this.deps.dataSource.query(
      `SELECT contact_id, COUNT(*) AS n FROM outbox_messages
       WHERE contact_id IN (${placeholders(contacts.length)}) AND channel = ? AND purpose = 'marketing'
         AND state IN ('sent', 'sending', 'confirming', 'unknown') AND COALESCE(sent_at, updated_at) >= ? AND id NOT IN (${placeholders(rows.length)})
       GROUP BY contact_id`,
      [...contacts, channel, toSqlDate(since), ...rows.map((r) => r.id)],
    );
    for (const f of found) counts.set(Number(f.contact_id), Number(f.n));
    return counts;
  }

  /**
   * The batch's outcomes in one transaction: the rows still held by this claim are locked, then
   * one UPDATE with a CASE per column, one INSERT of delivery-log lines, the interactions, and a
   * quota pause if one was met. Rows the sweep took from a claim that overran its lease are left
   * to the sweep's decision.
   */
  private async writeOutcomes(channel: OutboxChannel, token: string, rows: ClaimedRow[], outcomes: Map<number, Outcome>): Promise<void> {
    const at = this.deps.clock.now();
    await this.deps.transactor.runRetrying(
      async (m) => {
        await beginWriting(m);
        const ids = rows.map((r) => r.id);
        const held: { id: number | string }[] = await m.query(
          `SELECT id FROM outbox_messages WHERE id IN (${placeholders(ids.length)}) AND claimed_by = ? AND state = 'sending'${
            isMysqlManager(m) ? ' FOR UPDATE' : ''
          }`,
          [...ids, token],
        );
        const heldIds = new Set(held.map((h) => Number(h.id)));
        const mine = rows.filter((r) => heldIds.has(r.id) && outcomes.has(r.id));
        if (mine.length === 0) return;
        const of = (r: ClaimedRow): Outcome => outcomes.get(r.id) as Outcome;
        const cases: { column: string; value: (r: ClaimedRow) => unknown }[] = [
          { column: 'state', value: (r) => of(r).state },
          { column: 'attempts', value: (r) => of(r).attempts },
          { column: 'platform_msgid', value: (r) => of(r).msgid },
          { column: 'last_errcode', value: (r) => of(r).errcode },
          { column: 'last_error', value: (r) => of(r).error },
          { column: 'first_attempt_at', value: (r) => dateOrNull(of(r).firstAttemptAt) },
          { column: 'sent_at', value: (r) => (of(r).state === 'sent' ? toSqlDate(at) : null) },
        ];
        const set = cases.map((c) => `${c.column} = CASE id ${mine.map(() => 'WHEN ? THEN ?').join(' ')} END`);
        const params = cases.flatMap((c) => mine.flatMap((r) => [r.id, c.value(r)]));
        // not_before changes only where an outcome says so (a deferral, a retry's backoff).
        const moved = mine.filter((r) => of(r).notBefore !== null);
        if (moved.length > 0) {
          set.push(`not_before = CASE id ${moved.map(() => 'WHEN ? THEN ?').join(' ')} ELSE not_before END`);
          params.push(...moved.flatMap((r) => [r.id, toSqlDate(of(r).notBefore as Date)]));
        }
        await m.query(
          `UPDATE outbox_messages SET ${set.join(', ')}, claimed_by = NULL, claimed_until = NULL, updated_at = ?
           WHERE id IN (${placeholders(mine.length)})`,
          [...params, toSqlDate(at), ...mine.map((r) => r.id)],
        );
        await this.insertAttempts(
          m,
          mine.flatMap((r) => {
            const o = of(r);
            return o.log === null ? [] : [{ id: r.id, attempt: r.attempts, outcome: o.log, errcode: o.errcode, error: o.error }];
          }),
        );
        const driver = this.driverOf(channel);
        const accepted = mine.filter((r) => of(r).state === 'sent' || of(r).state === 'confirming');
        if (accepted.length > 0 && driver.afterAccepted)
          await driver.afterAccepted(
            m,
            accepted.map((row) => ({ row, msgid: of(row).msgid })),
          );
        await this.deps.interactions.recordInteractions(
          m,
          mine.flatMap((r) => this.interactionOf(driver, r, of(r), at)),
        );
        const quota = mine.find((r) => of(r).quota);
        if (quota) {
          const until = of(quota).notBefore as Date;
          await this.deps.budget.pause(m, this.bucketOf(channel), until, of(quota).error ?? 'daily_quota');
          this.deps.logger.warn('outbox channel paused: quota reached', {
            channel,
            errcode: of(quota).errcode,
            until: until.toISOString(),
          });
        }
      },
      { readCommitted: true },
    );
  }

  /**
   * A send, a refusal or a skip on the contact's timeline (direction out); retries and deferrals are
   * not, nor a message waiting for a person's confirmation (its check records the outcome).
   */
  private interactionOf(driver: ChannelDriver, row: ClaimedRow, o: Outcome, at: Date): InteractionDraft[] {
    if (o.state !== 'sent' && o.state !== 'failed' && o.state !== 'skipped') return [];
    const { channel } = driver;
    // WeChat's payloads name it template_id, Tencent Cloud SMS's templateId.
    const fields = typeof row.payload === 'object' && row.payload !== null ? (row.payload as Record<string, unknown>) : {};
    const templateId = fields.template_id ?? fields.templateId;
    const detail: InteractionDetail = {
      outboxId: row.id,
      channel,
      ...(typeof templateId === 'string' ? { templateId } : {}),
      ...(o.msgid ? { msgid: o.msgid } : {}),
      ...(o.errcode !== null ? { errcode: o.errcode } : {}),
      ...(o.state === 'skipped' ? { skipped: o.error } : o.state === 'failed' ? { reason: o.error } : {}),
      ...(row.sourceType === 'journey' ? { runId: row.runId, nodeId: row.nodeId } : {}),
      ...(row.sourceType === 'broadcast' ? { broadcastId: Number(row.sourceId) } : {}),
    };
    return [
      {
        type: o.state === 'sent' ? 'message_sent' : 'message_failed',
        channel: driver.interactionChannel,
        direction: 'out',
        occurredAt: at,
        detail,
        identity: null,
        contactId: row.contactId,
        dedupeKey: `outbox:${row.id}:${o.state === 'sent' ? 'sent' : `failed:${row.attempts}`}`,
        ref: row.sourceType === 'journey' || row.sourceType === 'broadcast' ? { type: row.sourceType, id: row.sourceId } : null,
      },
    ];
  }

  private async insertAttempts(
    m: EntityManager,
    lines: { id: number; attempt: number; outcome: OutboxAttemptOutcome; errcode: number | null; error: string | null }[],
  ): Promise<void> {
    if (lines.length === 0) return;
    const at = toSqlDate(this.deps.clock.now());
    // A line per (row, attempt): a replayed outcome write (a retried transaction) adds nothing.
    const conflict = isMysqlManager(m) ? 'ON DUPLICATE KEY UPDATE id = id' : 'ON CONFLICT (outbox_id, attempt) DO NOTHING';
    await m.query(
      `INSERT INTO outbox_attempts (outbox_id, attempt, at, errcode, errmsg, outcome) VALUES ${lines.map(() => '(?, ?, ?, ?, ?, ?)').join(', ')} ${conflict}`,
      lines.flatMap((l) => [l.id, l.attempt, at, l.errcode, l.error === null ? null : truncate(l.error), l.outcome]),
    );
  }

  /** When a quota pause ends: configured minutes, else the next midnight in Beijing (WeChat resets quotas then). */
  private quotaResumesAt(): Date {
    const now = this.deps.clock.now();
    const minutes = this.deps.config.quotaPauseMinutes;
    return minutes === null ? nextShanghaiMidnight(now) : new Date(now.getTime() + minutes * 60_000);
  }

  private backoff(attempts: number): Date {
    return new Date(this.deps.clock.now().getTime() + Math.min(5_000 * 2 ** Math.max(0, attempts - 1), 600_000));
  }

  /** The database's time `ms` ago, as SQL with no parameter. */
  private ago(m: EntityManager, ms: number): string {
    const whole = Math.round(ms);
    return isMysqlManager(m)
      ? `CURRENT_TIMESTAMP(3) - INTERVAL ${whole * 1000} MICROSECOND`
      : `strftime('%Y-%m-%d %H:%M:%f', 'now', '-${(whole / 1000).toFixed(3)} seconds')`;
  }
}

/** How a refusal every WeChat API shares is handled (a driver's classify comes first). */
function defaultRefusal(error: unknown): Refusal | null {
  if (error instanceof PlatformApiError) {
    if (error.errcode === 43004) return { outcome: 'skip', errcode: 43004, reason: 'not_following' };
    if (error.errcode === 45009) return { outcome: 'quota', errcode: 45009, reason: 'daily_quota' };
    const reason = `${error.errcode} ${error.errmsg}`;
    return { outcome: RETRY_ERRCODES.has(error.errcode) ? 'retry' : 'fail', errcode: error.errcode, reason };
  }
  if (error instanceof PlatformTransportError && error.refusedBeforeSending)
    return { outcome: 'retry', errcode: null, reason: 'connection_refused' };
  return null;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

function truncate(text: string): string {
  return text.length > MAX_ERROR_LENGTH ? text.slice(0, MAX_ERROR_LENGTH) : text;
}

function dateOrNull(date: Date | null): string | null {
  return date === null ? null : toSqlDate(date);
}
