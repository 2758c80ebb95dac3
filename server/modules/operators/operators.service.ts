import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { LessThan, type DataSource, type EntityManager } from 'typeorm';
import { Operator, type OperatorRole } from '../../../entities/operator.entity';
import { OperatorSession } from '../../../entities/operator-session.entity';
import type { Clock } from '../../adapters/clock';
import type { Logger } from '../../adapters/logger';
import type { Metrics } from '../../adapters/metrics';
import type { Transactor } from '../../db/transaction';
import { describeChanges, type AuditActor, type AuditService } from '../audit/audit.service';
import { LoginThrottleStore } from './login-throttle';
import { verifyPassword, type PasswordHasher } from './password-hash';

export const SESSION_TTL_MS = 12 * 60 * 60 * 1000;
const TOKEN_BYTES = 32;
/** base64url of 32 bytes, unpadded. */
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;
/** Generated one-time passwords: 18 random bytes, 24 base64url characters (144 bits). */
const GENERATED_PASSWORD_BYTES = 18;
/** The operator start-up creates when nobody exists and ADMIN_USERNAME/ADMIN_PASSWORD are not set. */
export const FIRST_RUN_USERNAME = 'admin';
/** An operator as the rest of the application sees it: never the password hash. */
export interface OperatorView {
  id: number;
  username: string;
  displayName: string | null;
  role: OperatorRole;
  wecomUserId: string | null;
  disabled: boolean;
  /** True while the operator still has a generated password: they may do nothing but change it. */
  mustChangePassword: boolean;
  createdAt: string;
}

/** A live session: who it belongs to, and what its cookie-authenticated requests must echo. */
export interface AuthenticatedSession {
  sessionId: number;
  operator: OperatorView;
  /** SHA-256 (hex) of the session's CSRF token; null for sessions from before CSRF tokens. */
  csrfTokenHash: string | null;
  /** `wecom`: opened by the sidebar's WeCom OAuth sign-in; null: by the password. */
  openedVia: 'wecom' | null;
}

export type LoginResult =
  /** `csrfToken` goes to the browser in the fw_csrf cookie; only its hash is stored. */
  | { ok: true; token: string; csrfToken: string; expiresAt: Date; operator: OperatorView }
  | { ok: false; reason: 'invalid_credentials' }
  /** Too many recent failures for this account or from this IP: try again in retryAfterSeconds. */
  | { ok: false; reason: 'throttled'; retryAfterSeconds: number };

export interface LoginParams {
  username: string;
  password: string;
  ip: string | null;
}

export interface OpenWecomSessionParams {
  /** The userid WeCom's OAuth2 answered (auth/getuserinfo). */
  wecomUserId: string;
  ip: string | null;
}

export type OpenWecomSessionResult =
  | { ok: true; token: string; csrfToken: string; expiresAt: Date; operator: OperatorView }
  /** No operator has this WeCom userid; or every one that has it is disabled. */
  | { ok: false; reason: 'no_operator' | 'disabled' };

export interface EnsureBootstrapAdminParams {
  username: string;
  password: string;
}

export interface ChangeOwnPasswordParams {
  operatorId: number;
  /** The session the change is made from: it stays open, every other one is revoked. */
  sessionId: number;
  currentPassword: string;
  newPassword: string;
  ip: string | null;
}

export type ChangeOwnPasswordResult =
  | { ok: true }
  | { ok: false; reason: 'wrong_password' | 'same_password' | 'not_found' }
  | { ok: false; reason: 'throttled'; retryAfterSeconds: number };

/** A password made here for someone to read once (first run, reset) and replace at their first login. */
export interface GeneratedCredentials {
  username: string;
  password: string;
}

export type ResetPasswordResult = ({ ok: true } & GeneratedCredentials) | { ok: false; reason: 'not_found' };

export interface CreateOperatorParams {
  username: string;
  password: string;
  role: OperatorRole;
  displayName?: string | null;
  wecomUserId?: string | null;
  /**
   * Whether the operator must replace the password at the first login. The admin API passes true:
   * the admin chose the password and told it to someone, so, as after a reset, only its owner
   * should know the one they go on with. Seeding scripts and tests leave it out.
   */
  mustChangePassword?: boolean;
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
  /** scrypt at the configured cost (PASSWORD_SCRYPT_N). */
  passwords: PasswordHasher;
  /** Counts refused logins by the reason the audit row records (flywheel_login_failures_total). */
  metrics?: Pick<Metrics, 'loginFailures'>;
}

/** Operators, their passwords and their sessions (bearer tokens and browser cookies alike). */
export class OperatorsService {
  private readonly throttle: LoginThrottleStore;

  constructor(private readonly deps: OperatorsServiceDeps) {
    this.throttle = new LoginThrottleStore({ dataSource: deps.dataSource, clock: deps.clock });
  }

  /**
   * Creates the first admin from configuration (ADMIN_USERNAME/ADMIN_PASSWORD) when no operator
   * exists yet. The user chose that password, so it need not be changed. Returns whether this
   * call created it.
   */
  async ensureBootstrapAdmin(params: EnsureBootstrapAdminParams): Promise<boolean> {
    const created = await this.insertFirstAdmin({ username: params.username, password: params.password, mustChangePassword: false });
    if (created) this.deps.logger.info('created the bootstrap admin', { username: params.username });
    return created;
  }

  /**
   * First run without ADMIN_USERNAME/ADMIN_PASSWORD: when no operator exists, creates `admin`
   * with a generated password that must be changed at the first login, and returns it so the
   * caller can show it once. Null when an operator exists already, or when another instance
   * starting at the same moment created the admin (only that instance gets the password).
   * The password is never logged.
   */
  async ensureFirstRunAdmin(): Promise<GeneratedCredentials | null> {
    const password = generatePassword();
    const created = await this.insertFirstAdmin({ username: FIRST_RUN_USERNAME, password, mustChangePassword: true });
    if (!created) return null;
    this.deps.logger.info('created the first-run admin with a generated password (printed to the terminal, not logged)', {
      username: FIRST_RUN_USERNAME,
    });
    return { username: FIRST_RUN_USERNAME, password };
  }

  /**
   * A lost password (`npm run admin -- reset-password <username>`): a new generated password
   * that must be changed at the next login; every session of the operator ends, and their login
   * delay is cleared. Audited with no operator (it comes from a shell on the server).
   */
  async resetPassword(params: { username: string }): Promise<ResetPasswordResult> {
    const password = generatePassword();
    const passwordHash = await this.deps.passwords.hash(password);
    const found = await this.deps.transactor.run(async (m) => {
      const operator = await m.findOneBy(Operator, { username: params.username });
      if (!operator) return null;
      await m.update(Operator, { id: operator.id }, { passwordHash, mustChangePassword: true, updatedAt: this.deps.clock.now() });
      await this.revokeSessions(m, operator.id);
      await this.deps.audit.record({
        manager: m,
        operatorId: null,
        action: 'operator.reset_password',
        targetType: 'operator',
        targetId: operator.id,
        detail: { username: operator.username },
      });
      return operator;
    });
    if (!found) return { ok: false, reason: 'not_found' };
    await this.throttle.resetAccount(found.id);
    return { ok: true, username: found.username, password };
  }

  /**
   * The signed-in operator chooses a new password: checks the current one (throttled like a
   * login, so a stolen session cannot guess it fast), clears mustChangePassword and ends every
   * other session of theirs, in one transaction with its audit row.
   */
  async changeOwnPassword(params: ChangeOwnPasswordParams): Promise<ChangeOwnPasswordResult> {
    const operator = await this.deps.dataSource.getRepository(Operator).findOneBy({ id: params.operatorId });
    if (!operator) return { ok: false, reason: 'not_found' };
    const reserved = await this.throttle.reserveAccount({ operatorId: operator.id });
    if (!reserved.ok) return { ok: false, reason: 'throttled', retryAfterSeconds: Math.max(1, Math.ceil(reserved.retryAfterMs / 1000)) };
    if (!(await verifyPassword(params.currentPassword, operator.passwordHash))) {
      await this.deps.audit.record({
        operatorId: operator.id,
        ip: params.ip,
        action: 'operator.change_password_failed',
        targetType: 'operator',
        targetId: operator.id,
        detail: { reason: 'wrong_password' },
      });
      return { ok: false, reason: 'wrong_password' };
    }
    await this.throttle.resetAccount(operator.id);
    if (params.newPassword.normalize('NFC') === params.currentPassword.normalize('NFC')) return { ok: false, reason: 'same_password' };
    const passwordHash = await this.deps.passwords.hash(params.newPassword);
    await this.deps.transactor.run(async (m) => {
      const now = this.deps.clock.now();
      await m.update(Operator, { id: operator.id }, { passwordHash, mustChangePassword: false, updatedAt: now });
      await m
        .createQueryBuilder()
        .update(OperatorSession)
        .set({ revokedAt: now })
        .where('operator_id = :operatorId AND revoked_at IS NULL AND id <> :sessionId', {
          operatorId: operator.id,
          sessionId: params.sessionId,
        })
        .execute();
      await this.deps.audit.record({
        manager: m,
        operatorId: operator.id,
        ip: params.ip,
        action: 'operator.change_password',
        targetType: 'operator',
        targetId: operator.id,
        detail: { mustChangePassword: operator.mustChangePassword },
      });
    });
    return { ok: true };
  }

  /**
   * Two instances starting together may both see an empty table; the unique username and
   * insert-or-ignore make one row of it. Returns whether this call's insert is the one that won.
   */
  private async insertFirstAdmin(params: { username: string; password: string; mustChangePassword: boolean }): Promise<boolean> {
    const operators = this.deps.dataSource.getRepository(Operator);
    if ((await operators.count()) > 0) return false;
    const now = this.deps.clock.now();
    const passwordHash = await this.deps.passwords.hash(params.password);
    await operators
      .createQueryBuilder()
      .insert()
      .into(Operator)
      .values({
        username: params.username,
        passwordHash,
        role: 'admin',
        disabled: false,
        mustChangePassword: params.mustChangePassword,
        createdAt: now,
        updatedAt: now,
      })
      .orIgnore()
      // An ignored row has no generated id on MySQL; do not try to read one back.
      .updateEntity(false)
      .execute();
    // Salts are random, so only the instance whose insert won finds its own hash.
    const stored = await operators.findOneBy({ username: params.username });
    const created = stored?.passwordHash === passwordHash;
    if (created && stored) {
      await this.deps.audit.record({
        operatorId: null,
        action: 'operator.bootstrap',
        targetType: 'operator',
        targetId: stored.id,
        detail: { username: stored.username, role: 'admin', mustChangePassword: params.mustChangePassword },
      });
    }
    return created;
  }

  async createOperator(params: CreateOperatorParams): Promise<CreateOperatorResult> {
    if (await this.deps.dataSource.getRepository(Operator).existsBy({ username: params.username }))
      return { ok: false, reason: 'duplicate_username' };
    // Hashed before the transaction: scrypt takes tens of milliseconds and needs no lock.
    const passwordHash = await this.deps.passwords.hash(params.password);
    // Checked again inside: a concurrent request for the same username may have committed since;
    // one that loses on the unique key runs again and finds it here.
    const duplicate: CreateOperatorResult = { ok: false, reason: 'duplicate_username' };
    return this.deps.transactor.runRetrying(
      async (m): Promise<CreateOperatorResult> => {
        if (await m.existsBy(Operator, { username: params.username })) return duplicate;
        const now = this.deps.clock.now();
        await m.insert(Operator, {
          username: params.username,
          displayName: params.displayName ?? null,
          passwordHash,
          role: params.role,
          wecomUserId: params.wecomUserId ?? null,
          disabled: false,
          mustChangePassword: params.mustChangePassword ?? false,
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
          detail: { username: row.username, role: row.role, wecomUserId: row.wecomUserId, mustChangePassword: row.mustChangePassword },
        });
        return { ok: true, operator: toOperatorView(row) };
      },
      { onDuplicate: () => duplicate },
    );
  }

  /** Changes role, profile, password or the disabled flag; a new password or disabling ends every session. */
  async updateOperator(params: UpdateOperatorParams): Promise<UpdateOperatorResult> {
    const passwordHash = params.password === undefined ? undefined : await this.deps.passwords.hash(params.password);
    const result = await this.deps.transactor.run(async (m): Promise<UpdateOperatorResult> => {
      const current = await m.findOneBy(Operator, { id: params.id });
      if (!current) return { ok: false, reason: 'not_found' };
      // An admin who demotes or disables themselves may leave nobody able to undo it.
      const isSelf = params.actor.operatorId === current.id;
      if (isSelf && ((params.role !== undefined && params.role !== current.role) || params.disabled === true))
        return { ok: false, reason: 'cannot_demote_self' };

      const now = this.deps.clock.now();
      const patch: Partial<Operator> = { updatedAt: now };
      if (params.role !== undefined) patch.role = params.role;
      if (params.displayName !== undefined) patch.displayName = params.displayName;
      if (params.wecomUserId !== undefined) patch.wecomUserId = params.wecomUserId;
      if (params.disabled !== undefined) patch.disabled = params.disabled;
      if (passwordHash !== undefined) {
        patch.passwordHash = passwordHash;
        // A password an admin set for someone else is a reset: its owner must replace it at login.
        patch.mustChangePassword = !isSelf;
      }
      await m.update(Operator, { id: current.id }, patch);
      if (passwordHash !== undefined || params.disabled === true) await this.revokeSessions(m, current.id);

      const updated = await m.findOneByOrFail(Operator, { id: current.id });
      const visible = (o: Operator) => ({ role: o.role, displayName: o.displayName, wecomUserId: o.wecomUserId, disabled: o.disabled });
      const detail = describeChanges(visible(current), visible(updated));
      // Never the password itself: only that it changed.
      if (passwordHash !== undefined) detail.passwordChanged = true;
      await this.deps.audit.record({
        manager: m,
        operatorId: params.actor.operatorId,
        ip: params.actor.ip,
        action: 'operator.update',
        targetType: 'operator',
        targetId: current.id,
        detail,
      });
      return { ok: true, operator: toOperatorView(updated) };
    });
    // A new password set by an admin also clears the account's login delay.
    if (result.ok && passwordHash !== undefined) await this.throttle.resetAccount(result.operator.id);
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
    const fail = async (reason: string, operatorId: number | null): Promise<void> => {
      this.deps.metrics?.loginFailures.inc({ reason });
      await this.deps.audit.record({
        operatorId,
        ip: params.ip,
        action: 'login_failed',
        targetType: 'operator',
        targetId: operatorId,
        detail: { username: params.username.slice(0, 64), reason },
      });
    };
    const operators = this.deps.dataSource.getRepository(Operator);
    const operator = await operators.findOneBy({ username: params.username });

    // The IP first: an address over its limit no longer adds to (and so delays) any account.
    const byIp = params.ip === null ? ({ ok: true } as const) : await this.throttle.reserveIp(params.ip);
    // Counted against the operator the lookup found, however the name was spelt (accountThrottleKey);
    // an unknown name costs the same two reservations and one scrypt run, so timing tells nothing.
    const account = operator ? { operatorId: operator.id } : { unknownUsername: params.username };
    const reserved = byIp.ok ? await this.throttle.reserveAccount(account) : byIp;
    if (!reserved.ok) {
      await fail(byIp.ok ? 'throttled_account' : 'throttled_ip', operator?.id ?? null);
      return { ok: false, reason: 'throttled', retryAfterSeconds: Math.max(1, Math.ceil(reserved.retryAfterMs / 1000)) };
    }

    if (!operator) {
      await this.deps.passwords.verifyUnknownUser(params.password);
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

    await this.throttle.resetAccount(operator.id);
    if (params.ip !== null) await this.throttle.refundIp(params.ip);
    // Hashed with older parameters (password-hash.ts): the password is at hand once, now.
    if (this.deps.passwords.needsRehash(operator.passwordHash)) {
      await operators.update({ id: operator.id }, { passwordHash: await this.deps.passwords.hash(params.password) });
    }
    const session = await this.openSession(operator.id);
    await this.deps.audit.record({
      operatorId: operator.id,
      ip: params.ip,
      action: 'login',
      targetType: 'operator',
      targetId: operator.id,
      detail: { username: operator.username },
    });
    return { ok: true, ...session, operator: toOperatorView(operator) };
  }

  /**
   * Opens an ordinary session (the same cookies, lifetime and CSRF token as a password login) for
   * the operator whose WeCom userid WeCom's OAuth2 just vouched for: how a rep signs in to the
   * sidebar. WeCom userids are case-insensitive ("不区分大小写"), so they are compared lower-cased
   * on both databases. Audited as `sidebar_sign_in`.
   */
  async openWecomSession(params: OpenWecomSessionParams): Promise<OpenWecomSessionResult> {
    const matches = await this.deps.dataSource
      .getRepository(Operator)
      .createQueryBuilder('o')
      .where('LOWER(o.wecom_user_id) = LOWER(:userId)', { userId: params.wecomUserId })
      .orderBy('o.id', 'ASC')
      .getMany();
    const operator = matches.find((o) => !o.disabled);
    if (!operator) return { ok: false, reason: matches.length === 0 ? 'no_operator' : 'disabled' };
    if (matches.filter((o) => !o.disabled).length > 1)
      this.deps.logger.warn('several active operators share a WeCom userid; the sidebar signs in the oldest', {
        wecomUserId: params.wecomUserId,
        operatorId: operator.id,
      });
    const session = await this.openSession(operator.id, 'wecom');
    await this.deps.audit.record({
      operatorId: operator.id,
      ip: params.ip,
      action: 'sidebar_sign_in',
      targetType: 'operator',
      targetId: operator.id,
      detail: { username: operator.username, wecomUserId: params.wecomUserId },
    });
    return { ok: true, ...session, operator: toOperatorView(operator) };
  }

  private async openSession(
    operatorId: number,
    openedVia: 'wecom' | null = null,
  ): Promise<{ token: string; csrfToken: string; expiresAt: Date }> {
    const now = this.deps.clock.now();
    const token = randomBytes(TOKEN_BYTES).toString('base64url');
    const csrfToken = randomBytes(TOKEN_BYTES).toString('base64url');
    const expiresAt = new Date(now.getTime() + SESSION_TTL_MS);
    await this.deps.dataSource.getRepository(OperatorSession).insert({
      tokenHash: hashToken(token),
      csrfTokenHash: hashToken(csrfToken),
      operatorId,
      createdAt: now,
      expiresAt,
      revokedAt: null,
      openedVia,
    });
    return { token, csrfToken, expiresAt };
  }

  /**
   * The live session of a token (bearer header or fw_session cookie), or null when it is unknown,
   * expired, revoked or its operator disabled.
   */
  async authenticateSession(token: string): Promise<AuthenticatedSession | null> {
    if (!TOKEN_PATTERN.test(token)) return null;
    const session = await this.deps.dataSource.getRepository(OperatorSession).findOneBy({ tokenHash: hashToken(token) });
    if (!session || session.revokedAt !== null) return null;
    if (session.expiresAt.getTime() <= this.deps.clock.now().getTime()) return null;
    const operator = await this.deps.dataSource.getRepository(Operator).findOneBy({ id: session.operatorId });
    if (!operator || operator.disabled) return null;
    return {
      sessionId: session.id,
      operator: toOperatorView(operator),
      csrfTokenHash: session.csrfTokenHash,
      openedVia: session.openedVia,
    };
  }

  /** Revokes the session; returns whether there was a live one. */
  async logout(params: { token: string; ip: string | null }): Promise<boolean> {
    if (!TOKEN_PATTERN.test(params.token)) return false;
    const sessions = this.deps.dataSource.getRepository(OperatorSession);
    const session = await sessions.findOneBy({ tokenHash: hashToken(params.token) });
    if (!session || session.revokedAt !== null) return false;
    await sessions.update({ id: session.id }, { revokedAt: this.deps.clock.now() });
    await this.deps.audit.record({
      operatorId: session.operatorId,
      ip: params.ip,
      action: 'logout',
      targetType: 'operator',
      targetId: session.operatorId,
    });
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

/**
 * Whether `presented` is the CSRF token whose hash the session stores. Both sides are SHA-256
 * digests of equal length, compared in constant time, so the time taken says nothing about how
 * much of a guess was right.
 */
export function csrfTokenMatches(presented: string, storedHash: string | null): boolean {
  if (storedHash === null || presented === '') return false;
  const expected = Buffer.from(storedHash, 'hex');
  const actual = createHash('sha256').update(presented).digest();
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

function generatePassword(): string {
  return randomBytes(GENERATED_PASSWORD_BYTES).toString('base64url');
}

function toOperatorView(operator: Operator): OperatorView {
  return {
    id: operator.id,
    username: operator.username,
    displayName: operator.displayName,
    role: operator.role,
    wecomUserId: operator.wecomUserId,
    disabled: operator.disabled,
    mustChangePassword: operator.mustChangePassword,
    createdAt: operator.createdAt.toISOString(),
  };
}
