import { createHash, randomBytes } from 'node:crypto';
import { LessThan, type DataSource, type EntityManager } from 'typeorm';
import { Operator, type OperatorRole } from '../../../entities/operator.entity';
import { OperatorSession } from '../../../entities/operator-session.entity';
import type { Clock } from '../../adapters/clock';
import type { Logger } from '../../adapters/logger';
import { isUniqueViolation } from '../../db/errors';
import type { Transactor } from '../../db/transaction';
import { describeChanges, type AuditActor, type AuditService } from '../audit/audit.service';
import { LoginThrottleStore } from './login-throttle';
import { hashPassword, verifyPassword } from './password-hash';

export const SESSION_TTL_MS = 12 * 60 * 60 * 1000;
const TOKEN_BYTES = 32;
/** base64url of 32 bytes, unpadded. */
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;
/**
 * Verified against when the username is unknown, so that answer costs the same scrypt run as a
 * wrong password and response time does not reveal which usernames exist. Nothing matches it.
 */
const UNKNOWN_USER_HASH = ['scrypt', 2 ** 15, 8, 1, Buffer.alloc(16).toString('base64'), Buffer.alloc(64).toString('base64')].join('$');

/** An operator as the rest of the application sees it: never the password hash. */
export interface OperatorView {
  id: number;
  username: string;
  displayName: string | null;
  role: OperatorRole;
  wecomUserId: string | null;
  disabled: boolean;
  createdAt: string;
}

export type LoginResult =
  | { ok: true; token: string; expiresAt: Date; operator: OperatorView }
  | { ok: false; reason: 'invalid_credentials' }
  /** Too many recent failures for this account or from this IP: try again in retryAfterSeconds. */
  | { ok: false; reason: 'throttled'; retryAfterSeconds: number };

export interface LoginParams {
  username: string;
  password: string;
  ip: string | null;
}

export interface EnsureBootstrapAdminParams {
  username: string;
  password: string;
}

export interface CreateOperatorParams {
  username: string;
  password: string;
  role: OperatorRole;
  displayName?: string | null;
  wecomUserId?: string | null;
  actor: AuditActor;
}

export interface UpdateOperatorParams {
  id: number;
  role?: OperatorRole;
  displayName?: string | null;
  wecomUserId?: string | null;
  disabled?: boolean;
  password?: string;
  actor: AuditActor;
}

export type CreateOperatorResult = { ok: true; operator: OperatorView } | { ok: false; reason: 'duplicate_username' };
export type UpdateOperatorResult = { ok: true; operator: OperatorView } | { ok: false; reason: 'not_found' | 'cannot_demote_self' };

export interface OperatorsServiceDeps {
  dataSource: DataSource;
  /** Operator changes, their session revocations and their audit rows commit together. */
  transactor: Transactor;
  clock: Clock;
  logger: Logger;
  audit: AuditService;
}

/** Operators, their passwords and their bearer sessions. */
export class OperatorsService {
  private readonly throttle: LoginThrottleStore;

  constructor(private readonly deps: OperatorsServiceDeps) {
    this.throttle = new LoginThrottleStore({ dataSource: deps.dataSource, clock: deps.clock });
  }

  /**
   * Creates the first admin from configuration when no operator exists yet. Two instances
   * starting together may both see an empty table; the unique username and insert-or-ignore make
   * one row of it. Returns whether this call created it.
   */
  async ensureBootstrapAdmin(params: EnsureBootstrapAdminParams): Promise<boolean> {
    const operators = this.deps.dataSource.getRepository(Operator);
    if ((await operators.count()) > 0) return false;
    const now = this.deps.clock.now();
    const passwordHash = await hashPassword(params.password);
    await operators
      .createQueryBuilder()
      .insert()
      .into(Operator)
      .values({ username: params.username, passwordHash, role: 'admin', failedLogins: 0, disabled: false, createdAt: now, updatedAt: now })
      .orIgnore()
      // An ignored row has no generated id on MySQL; do not try to read one back.
      .updateEntity(false)
      .execute();
    // Salts are random, so only the instance whose insert won finds its own hash.
    const stored = await operators.findOneBy({ username: params.username });
    const created = stored?.passwordHash === passwordHash;
    if (created && stored) {
      await this.deps.audit.record({ operatorId: null, action: 'operator.bootstrap', targetType: 'operator', targetId: stored.id, detail: { username: stored.username, role: 'admin' } });
      this.deps.logger.info('created the bootstrap admin', { username: stored.username });
    }
    return created;
  }

  async createOperator(params: CreateOperatorParams): Promise<CreateOperatorResult> {
    if (await this.deps.dataSource.getRepository(Operator).existsBy({ username: params.username })) return { ok: false, reason: 'duplicate_username' };
    // Hashed before the transaction: scrypt takes tens of milliseconds and needs no lock.
    const passwordHash = await hashPassword(params.password);
    try {
      const created = await this.deps.transactor.run(async (m) => {
        const now = this.deps.clock.now();
        await m.insert(Operator, {
          username: params.username,
          displayName: params.displayName ?? null,
          passwordHash,
          role: params.role,
          wecomUserId: params.wecomUserId ?? null,
          failedLogins: 0,
          disabled: false,
          createdAt: now,
          updatedAt: now,
        });
        const row = await m.findOneByOrFail(Operator, { username: params.username });
        await this.deps.audit.record({
          manager: m,
          operatorId: params.actor.operatorId,
          ip: params.actor.ip,
          action: 'operator.create',
          targetType: 'operator',
          targetId: row.id,
          detail: { username: row.username, role: row.role, wecomUserId: row.wecomUserId },
        });
        return row;
      });
      return { ok: true, operator: toOperatorView(created) };
    } catch (error) {
      if (isUniqueViolation(error)) return { ok: false, reason: 'duplicate_username' };
      throw error;
    }
  }

  /** Changes role, profile, password or the disabled flag; a new password or disabling ends every session. */
  async updateOperator(params: UpdateOperatorParams): Promise<UpdateOperatorResult> {
    const passwordHash = params.password === undefined ? undefined : await hashPassword(params.password);
    const result = await this.deps.transactor.run(async (m): Promise<UpdateOperatorResult> => {
      const current = await m.findOneBy(Operator, { id: params.id });
      if (!current) return { ok: false, reason: 'not_found' };
      // An admin who demotes or disables themselves may leave nobody able to undo it.
      const isSelf = params.actor.operatorId === current.id;
      if (isSelf && ((params.role !== undefined && params.role !== current.role) || params.disabled === true)) return { ok: false, reason: 'cannot_demote_self' };

      const now = this.deps.clock.now();
      const patch: Partial<Operator> = { updatedAt: now };
      if (params.role !== undefined) patch.role = params.role;
      if (params.displayName !== undefined) patch.displayName = params.displayName;
      if (params.wecomUserId !== undefined) patch.wecomUserId = params.wecomUserId;
      if (params.disabled !== undefined) patch.disabled = params.disabled;
      if (passwordHash !== undefined) patch.passwordHash = passwordHash;
      await m.update(Operator, { id: current.id }, patch);
      if (passwordHash !== undefined || params.disabled === true) await this.revokeSessions(m, current.id);

      const updated = await m.findOneByOrFail(Operator, { id: current.id });
      const visible = (o: Operator) => ({ role: o.role, displayName: o.displayName, wecomUserId: o.wecomUserId, disabled: o.disabled });
      const detail = describeChanges(visible(current), visible(updated));
      // Never the password itself: only that it changed.
      if (passwordHash !== undefined) detail.passwordChanged = true;
      await this.deps.audit.record({ manager: m, operatorId: params.actor.operatorId, ip: params.actor.ip, action: 'operator.update', targetType: 'operator', targetId: current.id, detail });
      return { ok: true, operator: toOperatorView(updated) };
    });
    // A new password set by an admin also clears the account's login delay.
    if (result.ok && passwordHash !== undefined) await this.throttle.resetAccount(result.operator.username);
    return result;
  }

  async listOperators(): Promise<OperatorView[]> {
    const rows = await this.deps.dataSource.getRepository(Operator).find({ order: { id: 'ASC' } });
    return rows.map(toOperatorView);
  }

  /**
   * Checks a password and opens a session. Unknown user, disabled account and wrong password
   * give the same answer. Attempts are throttled per IP and per account (LoginThrottleStore):
   * each is counted before its password is checked, so parallel guesses cannot all get through,
   * and a throttled attempt never reaches the password check, not even with the right password.
   * The account's throttle only delays (a minute at most), so nobody can lock the admin out.
   */
  async login(params: LoginParams): Promise<LoginResult> {
    const fail = async (reason: string, operatorId: number | null): Promise<void> =>
      this.deps.audit.record({ operatorId, ip: params.ip, action: 'login_failed', targetType: 'operator', targetId: operatorId, detail: { username: params.username.slice(0, 64), reason } });
    const operators = this.deps.dataSource.getRepository(Operator);
    const operator = await operators.findOneBy({ username: params.username });

    // The IP first: an address over its limit no longer adds to (and so delays) any account.
    const byIp = params.ip === null ? ({ ok: true } as const) : await this.throttle.reserveIp(params.ip);
    const reserved = byIp.ok ? await this.throttle.reserveAccount(params.username) : byIp;
    if (!reserved.ok) {
      await fail(byIp.ok ? 'throttled_account' : 'throttled_ip', operator?.id ?? null);
      return { ok: false, reason: 'throttled', retryAfterSeconds: Math.max(1, Math.ceil(reserved.retryAfterMs / 1000)) };
    }

    if (!operator) {
      await verifyPassword(params.password, UNKNOWN_USER_HASH);
      await fail('unknown_user', null);
      return { ok: false, reason: 'invalid_credentials' };
    }
    const passwordOk = await verifyPassword(params.password, operator.passwordHash);
    if (operator.disabled) {
      await fail('disabled', operator.id);
      return { ok: false, reason: 'invalid_credentials' };
    }
    if (!passwordOk) {
      await fail('wrong_password', operator.id);
      return { ok: false, reason: 'invalid_credentials' };
    }

    await this.throttle.resetAccount(params.username);
    if (params.ip !== null) await this.throttle.refundIp(params.ip);
    const now = this.deps.clock.now();
    const token = randomBytes(TOKEN_BYTES).toString('base64url');
    const expiresAt = new Date(now.getTime() + SESSION_TTL_MS);
    await this.deps.dataSource.getRepository(OperatorSession).insert({ tokenHash: hashToken(token), operatorId: operator.id, createdAt: now, expiresAt, revokedAt: null });
    await this.deps.audit.record({ operatorId: operator.id, ip: params.ip, action: 'login', targetType: 'operator', targetId: operator.id, detail: { username: operator.username } });
    return { ok: true, token, expiresAt, operator: toOperatorView(operator) };
  }

  /** The operator behind a bearer token, or null when it is unknown, expired, revoked or disabled. */
  async authenticate(token: string): Promise<OperatorView | null> {
    if (!TOKEN_PATTERN.test(token)) return null;
    const session = await this.deps.dataSource.getRepository(OperatorSession).findOneBy({ tokenHash: hashToken(token) });
    if (!session || session.revokedAt !== null) return null;
    if (session.expiresAt.getTime() <= this.deps.clock.now().getTime()) return null;
    const operator = await this.deps.dataSource.getRepository(Operator).findOneBy({ id: session.operatorId });
    if (!operator || operator.disabled) return null;
    return toOperatorView(operator);
  }

  /** Revokes the session; returns whether there was a live one. */
  async logout(params: { token: string; ip: string | null }): Promise<boolean> {
    if (!TOKEN_PATTERN.test(params.token)) return false;
    const sessions = this.deps.dataSource.getRepository(OperatorSession);
    const session = await sessions.findOneBy({ tokenHash: hashToken(params.token) });
    if (!session || session.revokedAt !== null) return false;
    await sessions.update({ id: session.id }, { revokedAt: this.deps.clock.now() });
    await this.deps.audit.record({ operatorId: session.operatorId, ip: params.ip, action: 'logout', targetType: 'operator', targetId: session.operatorId });
    return true;
  }

  /**
   * Daily housekeeping: deletes sessions that expired before `olderThan`, and login counters
   * untouched since then (their blocks ended long before). Returns the sessions deleted.
   */
  async pruneExpiredSessions(olderThan: Date): Promise<number> {
    const result = await this.deps.dataSource.manager.delete(OperatorSession, { expiresAt: LessThan(olderThan) });
    await this.throttle.prune(olderThan);
    return result.affected ?? 0;
  }

  private async revokeSessions(m: EntityManager, operatorId: number): Promise<void> {
    await m
      .createQueryBuilder()
      .update(OperatorSession)
      .set({ revokedAt: this.deps.clock.now() })
      .where('operator_id = :operatorId AND revoked_at IS NULL', { operatorId })
      .execute();
  }
}

function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

function toOperatorView(operator: Operator): OperatorView {
  return {
    id: operator.id,
    username: operator.username,
    displayName: operator.displayName,
    role: operator.role,
    wecomUserId: operator.wecomUserId,
    disabled: operator.disabled,
    createdAt: operator.createdAt.toISOString(),
  };
}
