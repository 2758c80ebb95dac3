import { createHash, randomInt } from 'node:crypto';
import type { DataSource } from 'typeorm';
import type { Clock } from '../../adapters/clock';
import { isMysqlManager, executeCountingRows, toSqlDate } from '../../db/sql';
import type { Transactor } from '../../db/transaction';
import type { AuditActor, AuditService } from '../audit/audit.service';
import type { Reservation } from '../operators/login-throttle';
import type { MpCaller } from './mp-sessions.service';
import { refuseMp, type MpResult } from './mp-refusal';

/**
 * Who may use the mini-program's staff pages (the check-in scanner, issue 17 §1, §3).
 *
 * Decision: an admin issues a one-time binding code for an operator
 * (`POST /api/admin/operators/:id/mp-binding-code`), the operator types it into the mini-program
 * (`POST /api/mp/staff/bind {code}`), and from then that mini-program user (appid + openid) is
 * that operator's staff identity, as long as the operator is not disabled. Why not "the verified
 * phone equals the operator's phone": operators have no phone on record, a phone number is
 * recycled by carriers and shared by front desks, and a match would make anyone who ever held an
 * operator's number staff without anyone deciding it. The code is an explicit act of an admin,
 * bound to one operator, spent by one bind, short-lived, kept only as its SHA-256, and guessing is
 * bounded by the binding's own rate limit (8 characters of a 31-letter alphabet: 8.5·10^11 codes,
 * 10 tries per 10 minutes per session). Disabling the operator, or the admin's unbind, ends it.
 */

export interface MpStaffServiceDeps {
  dataSource: DataSource;
  transactor: Transactor;
  clock: Clock;
  audit: Pick<AuditService, 'record'>;
  throttle: { reserveInWindow(key: string, limit: { max: number; windowMs: number }): Promise<Reservation> };
}

export interface MpStaff {
  operatorId: number;
  name: string;
  role: string;
}

/** No 0/O, 1/I/L: a person reads the code off a screen and types it on a phone. */
const CODE_ALPHABET = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789';
const CODE_LENGTH = 8;
export const MP_BINDING_CODE_TTL_MS = 10 * 60 * 1000;
const BIND_TRIES = { max: 10, windowMs: 10 * 60 * 1000 };

function codeHash(code: string): string {
  return createHash('sha256').update(`mp-binding:${code}`, 'utf8').digest('hex');
}

/** What the person typed, folded the way the code was written: upper case, no spaces or dashes. */
export function normalizeBindingCode(typed: string): string {
  return typed.toUpperCase().replace(/[\s-]/g, '');
}

export class MpStaffService {
  constructor(private readonly deps: MpStaffServiceDeps) {}

  /**
   * A new code for an operator (an earlier unused one stops working: one live code per operator).
   * Null when there is no such operator or it is disabled. Audited (`operator.mp_binding_code`).
   */
  async issueBindingCode(p: { operatorId: number; actor: AuditActor }): Promise<{ code: string; expiresAt: string } | null> {
    const code = Array.from({ length: CODE_LENGTH }, () => CODE_ALPHABET[randomInt(CODE_ALPHABET.length)]).join('');
    const now = this.deps.clock.now();
    const expiresAt = new Date(now.getTime() + MP_BINDING_CODE_TTL_MS);
    const issued = await this.deps.transactor.run(async (m) => {
      const [operator] = await m.query<{ id: number | string }[]>(
        `SELECT id FROM operators WHERE id = ? AND disabled = 0${isMysqlManager(m) ? ' FOR UPDATE' : ''}`,
        [p.operatorId],
      );
      if (!operator) return false;
      await m.query('DELETE FROM mp_binding_codes WHERE operator_id = ? AND used_at IS NULL', [p.operatorId]);
      await m.query('INSERT INTO mp_binding_codes (operator_id, code_hash, expires_at, used_at, created_at) VALUES (?, ?, ?, NULL, ?)', [
        p.operatorId,
        codeHash(code),
        toSqlDate(expiresAt),
        toSqlDate(now),
      ]);
      await this.deps.audit.record({
        manager: m,
        operatorId: p.actor.operatorId,
        ip: p.actor.ip,
        action: 'operator.mp_binding_code',
        targetType: 'operator',
        targetId: p.operatorId,
        detail: { codeExpiresAt: expiresAt.toISOString() },
      });
      return true;
    });
    return issued ? { code, expiresAt: expiresAt.toISOString() } : null;
  }

  /**
   * POST /api/mp/staff/bind: the code spent by one guarded UPDATE (a code used, expired or never
   * issued changes nothing), then the mini-program user bound to its operator (a user bound to
   * another operator before moves to this one). Audited as the bound operator's `operator.mp_bind`.
   */
  async bind(p: { caller: MpCaller; code: string; ip: string | null }): Promise<MpResult<MpStaff>> {
    const tries = await this.deps.throttle.reserveInWindow(`mp:bind:${p.caller.sessionId}`, BIND_TRIES);
    if (!tries.ok)
      return refuseMp('rate_limited', 'Too many binding codes tried', { retryAfterSeconds: Math.ceil(tries.retryAfterMs / 1000) });
    const invalid = refuseMp('mp_binding_code_invalid', 'The binding code is wrong, used or expired');
    const code = normalizeBindingCode(p.code);
    if (code.length !== CODE_LENGTH) return invalid;
    const now = this.deps.clock.now();
    return this.deps.transactor.runRetrying(async (m): Promise<MpResult<MpStaff>> => {
      const spent = await executeCountingRows(
        m,
        'UPDATE mp_binding_codes SET used_at = ? WHERE code_hash = ? AND used_at IS NULL AND expires_at > ?',
        [toSqlDate(now), codeHash(code), toSqlDate(now)],
      );
      if (spent === 0) return invalid;
      const [operator] = await m.query<{ id: number | string; username: string; display_name: string | null; role: string }[]>(
        'SELECT o.id, o.username, o.display_name, o.role FROM mp_binding_codes c JOIN operators o ON o.id = c.operator_id ' +
          'WHERE c.code_hash = ? AND o.disabled = 0',
        [codeHash(code)],
      );
      if (!operator) return invalid;
      const upsert = isMysqlManager(m)
        ? 'INSERT INTO mp_staff_bindings (operator_id, app_id, openid, created_at) VALUES (?, ?, ?, ?) ' +
          'ON DUPLICATE KEY UPDATE operator_id = VALUES(operator_id), created_at = VALUES(created_at)'
        : 'INSERT INTO mp_staff_bindings (operator_id, app_id, openid, created_at) VALUES (?, ?, ?, ?) ' +
          'ON CONFLICT (app_id, openid) DO UPDATE SET operator_id = excluded.operator_id, created_at = excluded.created_at';
      await m.query(upsert, [operator.id, p.caller.appId, p.caller.openid, toSqlDate(now)]);
      await this.deps.audit.record({
        manager: m,
        operatorId: Number(operator.id),
        ip: p.ip,
        action: 'operator.mp_bind',
        targetType: 'operator',
        targetId: Number(operator.id),
        detail: { boundContactId: p.caller.contactId },
      });
      return {
        ok: true,
        value: { operatorId: Number(operator.id), name: operator.display_name ?? operator.username, role: operator.role },
      };
    });
  }

  /** The operator a mini-program user is bound to, when that operator is not disabled; else null (not staff). */
  async staffOf(caller: Pick<MpCaller, 'appId' | 'openid'>): Promise<MpStaff | null> {
    const [row] = await this.deps.dataSource.query<{ id: number | string; username: string; display_name: string | null; role: string }[]>(
      'SELECT o.id, o.username, o.display_name, o.role FROM mp_staff_bindings b JOIN operators o ON o.id = b.operator_id ' +
        'WHERE b.app_id = ? AND b.openid = ? AND o.disabled = 0',
      [caller.appId, caller.openid],
    );
    return row ? { operatorId: Number(row.id), name: row.display_name ?? row.username, role: row.role } : null;
  }

  /** The admin's unbind: every mini-program user of the operator stops being staff. Audited (`operator.mp_unbind`). */
  async unbind(p: { operatorId: number; actor: AuditActor }): Promise<number> {
    return this.deps.transactor.run(async (m) => {
      const removed = await executeCountingRows(m, 'DELETE FROM mp_staff_bindings WHERE operator_id = ?', [p.operatorId]);
      await m.query('DELETE FROM mp_binding_codes WHERE operator_id = ? AND used_at IS NULL', [p.operatorId]);
      await this.deps.audit.record({
        manager: m,
        operatorId: p.actor.operatorId,
        ip: p.actor.ip,
        action: 'operator.mp_unbind',
        targetType: 'operator',
        targetId: p.operatorId,
        detail: { bindingsRemoved: removed },
      });
      return removed;
    });
  }
}
