import { randomBytes } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import type { SubscribeConsentChannel } from '../../../entities/subscribe-consent.entity';
import type { Clock } from '../../adapters/clock';
import { executeCountingRows, fromSqlDate, isMysqlManager, placeholders, toSqlDate } from '../../db/sql';
import type { Transactor } from '../../db/transaction';
import { compactKey } from '../../wechat/dedupe-key';

/** Where an answer came from: a popup answered, the user's subscription settings, the mini-program's report. */
export type ConsentSource = 'popup' | 'change' | 'report';

/** One user answer for one template, as it is applied. */
export interface ConsentAnswer {
  contactId: number;
  channel: SubscribeConsentChannel;
  appId: string;
  templateId: string;
  /** accept, reject, ban; anything else (the mini-program's `filter`) is recorded and changes nothing. */
  status: string;
  source: ConsentSource;
  /** Unique per answer for good: a replay of the same answer adds nothing. */
  dedupeKey: string;
  at: Date;
}

/** A contact's consent for one template, as a driver's checks read it. */
export interface ConsentKey {
  contactId: number;
  templateId: string;
}

const TEMPLATE_ID_MAX = 128;

/**
 * What an answer does to the grants (docs/ARCHITECTURE.md, "The outbox"):
 * - `accept` in a popup or a mini-program report adds one one-time grant (一次性订阅: "用户同意一次，
 *   可下发一条"). The Official Account's popup works the same way per accept; neither the event nor
 *   the report says a template is long-term, so every grant recorded here is one-time.
 * - `accept` in a change event (the user turned the subscription back on in settings) grants
 *   nothing by itself: the status says so, the count stays.
 * - `reject` in a popup declines this prompt only: grants the user gave before stay valid.
 * - `reject` in a change event (turned off in settings) and `ban` (拒绝并不再询问) take every grant away.
 * - `filter` (the mini-program hid the template: 标题同名被过滤) and unknown values change nothing.
 */
function effectOf(status: string, source: ConsentSource): 'add' | 'keep' | 'zero' | null {
  if (status === 'accept') return source === 'change' ? 'keep' : 'add';
  if (status === 'ban') return 'zero';
  if (status === 'reject') return source === 'change' ? 'zero' : 'keep';
  return null;
}

/**
 * Subscribe-message consent: the one writer of `subscribe_consents` and `subscribe_consent_events`.
 * Fed by the Official Account's popup and change events (the consent reaction) and by the
 * mini-program's report of wx.requestSubscribeMessage (recordMiniProgramConsent, for /api/mp); read
 * and spent by the oa_subscribe and mp_subscribe outbox drivers.
 */
export class SubscribeConsentService {
  constructor(private readonly deps: { transactor: Transactor; clock: Clock }) {}

  /**
   * Applies answers in the caller's transaction, each once: the answer's row in
   * subscribe_consent_events is inserted or ignored by its unique key, and only an inserted one
   * changes the grants. Returns how many answers were new.
   */
  async apply(manager: EntityManager, answers: ConsentAnswer[]): Promise<number> {
    let applied = 0;
    const mysql = isMysqlManager(manager);
    for (const a of answers) {
      const templateId = a.templateId.trim();
      if (templateId === '' || templateId.length > TEMPLATE_ID_MAX) continue;
      const status = a.status.slice(0, 16);
      const at = toSqlDate(a.at);
      const inserted = await executeCountingRows(
        manager,
        `${mysql ? 'INSERT IGNORE' : 'INSERT OR IGNORE'} INTO subscribe_consent_events (dedupe_key, contact_id, channel, app_id, template_id, status, source, at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
        [compactKey(a.dedupeKey), a.contactId, a.channel, a.appId, templateId, status, a.source, at],
      );
      if (inserted === 0) continue;
      applied += 1;
      const effect = effectOf(status, a.source);
      if (effect === null) continue;
      const remaining = effect === 'add' ? 'remaining + 1' : effect === 'zero' ? '0' : 'remaining';
      const conflict = mysql
        ? `ON DUPLICATE KEY UPDATE status = VALUES(status), remaining = ${remaining}, updated_at = VALUES(updated_at)`
        : `ON CONFLICT (contact_id, channel, app_id, template_id) DO UPDATE SET status = excluded.status, remaining = ${remaining}, updated_at = excluded.updated_at`;
      await manager.query(
        `INSERT INTO subscribe_consents (contact_id, channel, app_id, template_id, kind, status, remaining, updated_at)
         VALUES (?, ?, ?, ?, 'one_time', ?, ?, ?) ${conflict}`,
        [a.contactId, a.channel, a.appId, templateId, status, effect === 'add' ? 1 : 0, at],
      );
    }
    return applied;
  }

  /**
   * The mini-program's report of wx.requestSubscribeMessage: `{TEMPLATE_ID: 'accept' | 'reject' |
   * 'ban' | 'filter'}` (its `errMsg` key is ignored). `reportKey` makes a re-sent report add nothing
   * (the route passes the request's idempotency key); without it every call is a new answer.
   * @link https://developers.weixin.qq.com/miniprogram/dev/api/open-api/subscribe-message/wx.requestSubscribeMessage.html
   */
  async recordMiniProgramConsent(
    contactId: number,
    appId: string,
    result: Record<string, unknown>,
    options: { reportKey?: string; manager?: EntityManager } = {},
  ): Promise<{ applied: number }> {
    const at = this.deps.clock.now();
    const key = options.reportKey ?? `${at.getTime()}:${randomBytes(6).toString('hex')}`;
    const answers: ConsentAnswer[] = Object.entries(result)
      .filter((entry): entry is [string, string] => entry[0] !== 'errMsg' && typeof entry[1] === 'string')
      .map(([templateId, status]) => ({
        contactId,
        channel: 'mp_subscribe',
        appId,
        templateId,
        status,
        source: 'report',
        dedupeKey: `mp:${appId}:${contactId}:${key}:${templateId}`,
        at,
      }));
    if (answers.length === 0) return { applied: 0 };
    const run = async (m: EntityManager) => {
      // A contact merged since the mini-program's session began lives on in its survivor.
      const survivor = await survivorOf(m, contactId);
      return this.apply(
        m,
        answers.map((a) => ({ ...a, contactId: survivor })),
      );
    };
    return { applied: options.manager ? await run(options.manager) : await this.deps.transactor.run(run) };
  }

  /**
   * How many sends each (contact, template) may have now: its unspent one-time grants, or no limit
   * for an accepted long-term consent. Keys without a row are absent (none).
   */
  async grantsOf(
    manager: EntityManager,
    channel: SubscribeConsentChannel,
    appId: string,
    contactIds: number[],
  ): Promise<Map<string, number>> {
    const grants = new Map<string, number>();
    const ids = [...new Set(contactIds)];
    if (ids.length === 0) return grants;
    const rows: { contact_id: number | string; template_id: string; kind: string; status: string; remaining: number | string }[] =
      await manager.query(
        `SELECT contact_id, template_id, kind, status, remaining FROM subscribe_consents
         WHERE channel = ? AND app_id = ? AND contact_id IN (${placeholders(ids.length)})`,
        [channel, appId, ...ids],
      );
    for (const r of rows) {
      const n = r.kind === 'long_term' && r.status === 'accept' ? Number.POSITIVE_INFINITY : Number(r.remaining);
      grants.set(consentKeyOf({ contactId: Number(r.contact_id), templateId: r.template_id }), n);
    }
    return grants;
  }

  /**
   * Spends one one-time grant per accepted send, in the outcome's transaction: a guarded UPDATE per
   * (contact, template) that never goes below zero. Long-term consents are not counted down.
   */
  async spend(manager: EntityManager, channel: SubscribeConsentChannel, appId: string, sends: ConsentKey[]): Promise<void> {
    const counts = new Map<string, { key: ConsentKey; n: number }>();
    for (const s of sends) {
      const k = consentKeyOf(s);
      const entry = counts.get(k) ?? { key: s, n: 0 };
      entry.n += 1;
      counts.set(k, entry);
    }
    const at = toSqlDate(this.deps.clock.now());
    for (const { key, n } of counts.values())
      await manager.query(
        `UPDATE subscribe_consents SET remaining = CASE WHEN remaining > ? THEN remaining - ? ELSE 0 END, updated_at = ?
         WHERE contact_id = ? AND channel = ? AND app_id = ? AND template_id = ? AND kind = 'one_time' AND remaining > 0`,
        [n, n, at, key.contactId, channel, appId, key.templateId],
      );
  }

  /**
   * The platform refused the send (43101): the grants we counted when the send was planned
   * (`counted`) were not there. Those are taken away, not the whole row: a grant the user gave
   * while the request was out (a popup answered meanwhile, recorded by this or another instance)
   * is newer than the platform's answer and stays. `null` (a long-term consent, never counted)
   * zeroes the row.
   */
  async revoke(
    channel: SubscribeConsentChannel,
    appId: string,
    key: ConsentKey,
    counted: number | null,
    manager?: EntityManager,
  ): Promise<void> {
    const n = counted === null || !Number.isFinite(counted) ? null : Math.max(0, Math.floor(counted));
    const sql = `UPDATE subscribe_consents SET remaining = ${n === null ? '0' : 'CASE WHEN remaining > ? THEN remaining - ? ELSE 0 END'}, updated_at = ?
       WHERE contact_id = ? AND channel = ? AND app_id = ? AND template_id = ? AND remaining > 0`;
    const params = [...(n === null ? [] : [n, n]), toSqlDate(this.deps.clock.now()), key.contactId, channel, appId, key.templateId];
    // Through the transactor when alone: on SQLite a bare statement would run inside whatever transaction is open.
    if (manager) await manager.query(sql, params);
    else await this.deps.transactor.run((m) => m.query(sql, params));
  }
}

/** The contact a (possibly merged) contact lives on in: merges only chain forward, so a hop or two. */
async function survivorOf(manager: EntityManager, contactId: number): Promise<number> {
  let id = contactId;
  for (let hops = 0; hops < 16; hops += 1) {
    const rows: { merged_into_id: number | string | null }[] = await manager.query('SELECT merged_into_id FROM contacts WHERE id = ?', [
      id,
    ]);
    const next = rows[0]?.merged_into_id;
    if (next === null || next === undefined) return id;
    id = Number(next);
  }
  return id;
}

/** The map key of a (contact, template) consent. */
export function consentKeyOf(key: ConsentKey): string {
  return `${key.contactId}\n${key.templateId}`;
}

/**
 * A merge (ContactsService.mergeContacts, both rows locked): the merged contact's consents move to
 * the survivor; where both hold one for the same template, the grants add up and the newer answer's
 * status stays.
 */
export async function moveSubscribeConsents(manager: EntityManager, mergedId: number, survivorId: number): Promise<void> {
  const rows: {
    id: number | string;
    contact_id: number | string;
    channel: string;
    app_id: string;
    template_id: string;
    status: string;
    remaining: number | string;
    updated_at: unknown;
  }[] = await manager.query(
    `SELECT id, contact_id, channel, app_id, template_id, status, remaining, updated_at FROM subscribe_consents WHERE contact_id IN (?, ?) ORDER BY id${isMysqlManager(manager) ? ' FOR UPDATE' : ''}`,
    [survivorId, mergedId],
  );
  const held = new Map(
    rows.filter((r) => Number(r.contact_id) === survivorId).map((r) => [`${r.channel}\n${r.app_id}\n${r.template_id}`, r]),
  );
  for (const r of rows.filter((x) => Number(x.contact_id) === mergedId)) {
    const twin = held.get(`${r.channel}\n${r.app_id}\n${r.template_id}`);
    if (!twin) {
      await manager.query('UPDATE subscribe_consents SET contact_id = ? WHERE id = ?', [survivorId, Number(r.id)]);
      continue;
    }
    const newer = fromSqlDate(r.updated_at).getTime() > fromSqlDate(twin.updated_at).getTime() ? r : twin;
    await manager.query('UPDATE subscribe_consents SET remaining = ?, status = ? WHERE id = ?', [
      Number(twin.remaining) + Number(r.remaining),
      newer.status,
      Number(twin.id),
    ]);
    await manager.query('DELETE FROM subscribe_consents WHERE id = ?', [Number(r.id)]);
  }
  await manager.query('UPDATE subscribe_consent_events SET contact_id = ? WHERE contact_id = ?', [survivorId, mergedId]);
}
