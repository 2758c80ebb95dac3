import { scryptSync } from 'node:crypto';
import { AuditLog } from '../../../entities/audit-log.entity';
import { LoginThrottle } from '../../../entities/login-throttle.entity';
import { Operator } from '../../../entities/operator.entity';
import { ManualClock } from '../../../server/adapters/clock';
import { createLogger } from '../../../server/adapters/logger';
import { Transactor } from '../../../server/db/transaction';
import { AuditService, type RecordAuditParams } from '../../../server/modules/audit/audit.service';
import { ACCOUNT_FREE_FAILURES, IP_MAX_FAILURES } from '../../../server/modules/operators/login-throttle';
import { OperatorsService, type LoginResult } from '../../../server/modules/operators/operators.service';
import { PasswordHasher, verifyPassword } from '../../../server/modules/operators/password-hash';
import { MIN_SCRYPT_N } from '../../../config/config.schema';
import { describeEachDatabase, useSecondInstance } from '../../support/database';

/** An audit log that takes logins but fails every operator change's row (after the change's own writes). */
class FailingAudit extends AuditService {
  override async record(params: RecordAuditParams): Promise<void> {
    if (params.action.startsWith('operator.')) throw new Error('audit log unavailable');
    await super.record(params);
  }
}

describe('password hash', () => {
  // The default is production's cost.
  const hasher = new PasswordHasher();
  it('stores scrypt N=2^14 r=8 p=5 (the OWASP minimum) with a 16-byte salt and a 64-byte key, and verifies', async () => {
    const stored = await hasher.hash('s3cret pässword');
    const [scheme, n, r, p, salt, key] = stored.split('$');
    expect([scheme, n, r, p]).toEqual(['scrypt', '16384', '8', '5']);
    expect(hasher.needsRehash(stored)).toBe(false);
    expect(Buffer.from(salt, 'base64')).toHaveLength(16);
    expect(Buffer.from(key, 'base64')).toHaveLength(64);
    await expect(verifyPassword('s3cret pässword', stored)).resolves.toBe(true);
    await expect(verifyPassword('s3cret passwort', stored)).resolves.toBe(false);
    expect(await hasher.hash('s3cret pässword')).not.toBe(stored);
  });

  it('still verifies a hash stored with the earlier parameters (N=2^15 r=8 p=1), and says it needs a rehash', async () => {
    // Made with node:crypto directly, as password-hash.ts did before.
    const salt = Buffer.from('0123456789abcdef');
    const key = scryptSync('s3cret pässword'.normalize('NFC'), salt, 64, { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 });
    const old = ['scrypt', 2 ** 15, 8, 1, salt.toString('base64'), key.toString('base64')].join('$');
    await expect(verifyPassword('s3cret pässword', old)).resolves.toBe(true);
    await expect(verifyPassword('s3cret passwort', old)).resolves.toBe(false);
    expect(hasher.needsRehash(old)).toBe(true);
  });

  it('treats a malformed or out-of-bounds stored value as no match', async () => {
    await expect(verifyPassword('x', 'plaintext')).resolves.toBe(false);
    await expect(verifyPassword('x', 'scrypt$3$8$1$AAAA$AAAAAAAAAAAAAAAAAAAAAA==')).resolves.toBe(false);
    await expect(verifyPassword('x', `scrypt$${2 ** 30}$8$1$AAAA$AAAAAAAAAAAAAAAAAAAAAA==`)).resolves.toBe(false);
  });
});

describeEachDatabase('OperatorsService', (db) => {
  const second = useSecondInstance(db);
  const passwords = new PasswordHasher(MIN_SCRYPT_N);
  const build = (clock = new ManualClock(), dataSource = db().dataSource, audit = new AuditService({ dataSource, clock })) =>
    new OperatorsService({
      dataSource,
      transactor: new Transactor(dataSource),
      clock,
      logger: createLogger('silent'),
      audit,
      passwords,
    });

  it('creates the bootstrap admin once, even when two instances start together', async () => {
    const [a, b] = await Promise.all([
      build().ensureBootstrapAdmin({ username: 'admin', password: 'first-admin-pw' }),
      build().ensureBootstrapAdmin({ username: 'admin', password: 'first-admin-pw' }),
    ]);
    expect([a, b].filter(Boolean)).toHaveLength(1);
    const rows = await db().dataSource.getRepository(Operator).find();
    expect(rows).toEqual([expect.objectContaining({ username: 'admin', role: 'admin', disabled: false })]);
    expect(await db().dataSource.getRepository(AuditLog).countBy({ action: 'operator.bootstrap' })).toBe(1);
    await expect(build().ensureBootstrapAdmin({ username: 'someone-else', password: 'x-password' })).resolves.toBe(false);
    expect(await db().dataSource.getRepository(Operator).count()).toBe(1);
  });

  const createAdmin = (operators: OperatorsService) =>
    operators.createOperator({ username: 'admin', password: 'right-password', role: 'admin', actor: { operatorId: null, ip: null } });
  const evaluated = (results: LoginResult[]) => results.filter((r) => r.ok || r.reason !== 'throttled');

  it('a login with a password hashed under the earlier parameters lets the operator in and rehashes it with the current ones', async () => {
    const operators = build();
    await createAdmin(operators);
    const salt = Buffer.from('fedcba9876543210');
    const key = scryptSync('right-password', salt, 64, { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 });
    const old = ['scrypt', 2 ** 15, 8, 1, salt.toString('base64'), key.toString('base64')].join('$');
    await db().dataSource.getRepository(Operator).update({ username: 'admin' }, { passwordHash: old });

    await expect(operators.login({ username: 'admin', password: 'right-password', ip: '192.0.2.1' })).resolves.toMatchObject({ ok: true });
    const { passwordHash } = await db().dataSource.getRepository(Operator).findOneByOrFail({ username: 'admin' });
    expect(passwordHash).not.toBe(old);
    expect(passwords.needsRehash(passwordHash)).toBe(false);
    await expect(operators.login({ username: 'admin', password: 'right-password', ip: '192.0.2.1' })).resolves.toMatchObject({ ok: true });
  });

  it('24 parallel wrong logins on two instances check at most the free guesses, and the right password right after them is throttled, not let in', async () => {
    const clock = new ManualClock();
    const [a, b] = [build(clock), build(clock, second())];
    await createAdmin(a);
    const guesses = Array.from({ length: 24 }, (_, i) => `guess-${i}`);
    const results = await Promise.all(
      guesses.map((password, i) => (i % 2 === 0 ? a : b).login({ username: 'admin', password, ip: '198.51.100.7' })),
    );
    expect(evaluated(results).length).toBeLessThanOrEqual(ACCOUNT_FREE_FAILURES);
    expect(results.filter((r) => !r.ok && r.reason === 'throttled')).toHaveLength(24 - evaluated(results).length);
    // The audit log agrees: no more passwords were checked than the throttle let through.
    const failed = await db().dataSource.getRepository(AuditLog).findBy({ action: 'login_failed' });
    expect(failed.filter((row) => row.detail.reason === 'wrong_password').length).toBeLessThanOrEqual(ACCOUNT_FREE_FAILURES);
    expect(failed.filter((row) => String(row.detail.reason).startsWith('throttled_')).length).toBe(24 - evaluated(results).length);
    // The right password, sent last, does not get in (and so cannot clear the count) until the delay has passed.
    const right = await b.login({ username: 'admin', password: 'right-password', ip: '198.51.100.7' });
    expect(right).toMatchObject({ ok: false, reason: 'throttled' });
  });

  it('five wrong logins from a stranger delay the admin on another IP by a second at most, never lock them out', async () => {
    const clock = new ManualClock();
    const operators = build(clock);
    await createAdmin(operators);
    for (let i = 0; i < 5; i += 1)
      await expect(operators.login({ username: 'admin', password: `nope-${i}`, ip: '203.0.113.66' })).resolves.toMatchObject({
        ok: false,
        reason: 'invalid_credentials',
      });
    const first = await operators.login({ username: 'admin', password: 'right-password', ip: '192.0.2.10' });
    if (!first.ok) {
      expect(first).toEqual({ ok: false, reason: 'throttled', retryAfterSeconds: 1 });
      clock.advance(1000);
      await expect(operators.login({ username: 'admin', password: 'right-password', ip: '192.0.2.10' })).resolves.toMatchObject({
        ok: true,
      });
    }
  });

  it('lets the first failures through free, then delays 1, 2, 4 ... seconds, capped at 60, and a success resets it', async () => {
    const clock = new ManualClock();
    const operators = build(clock);
    await createAdmin(operators);
    const waits: number[] = [];
    for (let i = 0; i < 14; i += 1) {
      const result = await operators.login({ username: 'admin', password: 'wrong', ip: `10.0.0.${i}` });
      if (!result.ok && result.reason === 'throttled') {
        waits.push(result.retryAfterSeconds);
        clock.advance(result.retryAfterSeconds * 1000);
        i -= 1;
        continue;
      }
      expect(result).toMatchObject({ ok: false, reason: 'invalid_credentials' });
    }
    expect(waits).toEqual([1, 2, 4, 8, 16, 32, 60, 60, 60]);
    const throttled = await operators.login({ username: 'admin', password: 'right-password', ip: '10.0.2.1' });
    expect(throttled).toEqual({ ok: false, reason: 'throttled', retryAfterSeconds: 60 });
    clock.advance(60_000);
    await expect(operators.login({ username: 'admin', password: 'right-password', ip: '10.0.2.1' })).resolves.toMatchObject({ ok: true });
    // Reset: the next failures are free again.
    for (let i = 0; i < ACCOUNT_FREE_FAILURES - 1; i += 1) await operators.login({ username: 'admin', password: 'wrong', ip: '10.0.2.2' });
    await expect(operators.login({ username: 'admin', password: 'right-password', ip: '10.0.2.2' })).resolves.toMatchObject({ ok: true });
  });

  it("counts every spelling the lookup finds as that operator's failures: ADMIN, admín, ádmin, 'admin ' and admin share one count on MariaDB, whatever throttle_key's collation", async () => {
    const clock = new ManualClock();
    const operators = build(clock);
    const created = await createAdmin(operators);
    if (!created.ok) throw new Error('admin not created');
    const adminId = created.operator.id;
    const mysql = db().config.kind === 'mysql';
    const spellings = ['ADMIN', 'admín', 'ádmin', 'admin '];
    // What the lookup finds: admin for each on MariaDB (case- and accent-insensitive, PAD SPACE), nobody on SQLite.
    for (const username of spellings)
      expect((await db().dataSource.getRepository(Operator).findOneBy({ username }))?.id ?? null).toBe(mysql ? adminId : null);
    // A binary collation, so that only the key, not the column's folding, can join the spellings.
    const [column] = mysql
      ? await db().dataSource.query<{ c: string }[]>(
          "SELECT COLLATION_NAME AS c FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'login_throttles' AND COLUMN_NAME = 'throttle_key'",
        )
      : [];
    if (column) await db().dataSource.query('ALTER TABLE login_throttles MODIFY throttle_key varchar(128) COLLATE utf8mb4_bin NOT NULL');
    try {
      for (const [i, username] of [...spellings, 'admin'].entries())
        await expect(operators.login({ username, password: `wrong-${i}`, ip: `192.0.2.${i}` })).resolves.toMatchObject({
          reason: 'invalid_credentials',
        });
      const right = await operators.login({ username: 'admin', password: 'right-password', ip: '192.0.2.50' });
      const accountKeys = (await db().dataSource.getRepository(LoginThrottle).find())
        .map((row) => row.throttleKey)
        .filter((key) => key.startsWith('account:'))
        .sort();
      if (mysql) {
        // Five failures against admin: the sixth attempt waits, even with the right password.
        expect(right).toEqual({ ok: false, reason: 'throttled', retryAfterSeconds: 1 });
        expect(accountKeys).toEqual([`account:op:${adminId}`]);
      } else {
        // On SQLite the spellings are names nobody has: one folded count of their own, admin's untouched.
        expect(right).toMatchObject({ ok: true });
        expect(accountKeys).toEqual(['account:name:admin', `account:op:${adminId}`]);
      }
    } finally {
      if (column) {
        // Keys the binary collation kept apart may be one under the original collation.
        await db().dataSource.query('DELETE FROM login_throttles');
        await db().dataSource.query(`ALTER TABLE login_throttles MODIFY throttle_key varchar(128) COLLATE ${column.c} NOT NULL`);
      }
    }
  });

  it('folds unknown usernames (case, accents, outer spaces) into one count on both databases, so each spelling is no fresh start', async () => {
    const clock = new ManualClock();
    const operators = build(clock);
    const spellings = ['Ghost', 'ghóst', 'GHOST ', ' ghost', 'ǵhost'];
    for (const [i, username] of spellings.entries())
      await expect(operators.login({ username, password: 'x', ip: `198.51.100.${i}` })).resolves.toMatchObject({
        reason: 'invalid_credentials',
      });
    await expect(operators.login({ username: 'gHoSt', password: 'x', ip: '198.51.100.99' })).resolves.toEqual({
      ok: false,
      reason: 'throttled',
      retryAfterSeconds: 1,
    });
  });

  it(`stops an IP after ${IP_MAX_FAILURES} failures in 15 minutes, whatever the usernames, and not other IPs`, async () => {
    const clock = new ManualClock();
    const operators = build(clock);
    await createAdmin(operators);
    for (let i = 0; i < IP_MAX_FAILURES; i += 1) {
      await expect(operators.login({ username: `user-${i}`, password: 'x', ip: '203.0.113.9' })).resolves.toMatchObject({
        ok: false,
        reason: 'invalid_credentials',
      });
      clock.advance(30_000);
    }
    // 20 failures took 10 minutes: the address waits out the rest of its 15-minute window.
    await expect(operators.login({ username: 'admin', password: 'right-password', ip: '203.0.113.9' })).resolves.toEqual({
      ok: false,
      reason: 'throttled',
      retryAfterSeconds: 5 * 60,
    });
    await expect(operators.login({ username: 'admin', password: 'right-password', ip: '203.0.113.10' })).resolves.toMatchObject({
      ok: true,
    });
    const rows = await db().dataSource.getRepository(AuditLog).findBy({ action: 'login_failed', ip: '203.0.113.9' });
    expect(rows.map((row) => row.detail.reason)).toEqual([
      ...Array.from({ length: IP_MAX_FAILURES }, () => 'unknown_user'),
      'throttled_ip',
    ]);
    clock.advance(5 * 60_000);
    await expect(operators.login({ username: 'admin', password: 'right-password', ip: '203.0.113.9' })).resolves.toMatchObject({
      ok: true,
    });
  });

  it('does not count successful logins against their IP (an office behind one address)', async () => {
    const operators = build();
    await createAdmin(operators);
    for (let i = 0; i < IP_MAX_FAILURES + 5; i += 1) {
      await expect(operators.login({ username: 'admin', password: 'right-password', ip: '192.0.2.200' })).resolves.toMatchObject({
        ok: true,
      });
    }
  });

  it('rolls back an operator change, its session revocation and all, when its audit row cannot be written', async () => {
    const clock = new ManualClock();
    const operators = build(clock, db().dataSource, new FailingAudit({ dataSource: db().dataSource, clock }));
    await expect(
      operators.createOperator({ username: 'zoe', password: 'zoe-password', role: 'operator', actor: { operatorId: null, ip: null } }),
    ).rejects.toThrow('audit log unavailable');
    expect(await db().dataSource.getRepository(Operator).countBy({ username: 'zoe' })).toBe(0);

    const working = build(clock);
    const created = await working.createOperator({
      username: 'zoe',
      password: 'zoe-password',
      role: 'operator',
      actor: { operatorId: null, ip: null },
    });
    if (!created.ok) throw new Error('not created');
    const session = await working.login({ username: 'zoe', password: 'zoe-password', ip: null });
    if (!session.ok) throw new Error('not logged in');
    await expect(
      operators.updateOperator({
        id: created.operator.id,
        role: 'admin',
        disabled: true,
        password: 'new-password',
        actor: { operatorId: null, ip: null },
      }),
    ).rejects.toThrow('audit log unavailable');
    const zoe = await db().dataSource.getRepository(Operator).findOneByOrFail({ username: 'zoe' });
    expect(zoe).toMatchObject({ role: 'operator', disabled: false });
    expect((await working.authenticateSession(session.token))?.operator).toMatchObject({ username: 'zoe' });
    await expect(working.login({ username: 'zoe', password: 'zoe-password', ip: null })).resolves.toMatchObject({ ok: true });
  });

  it('housekeeping deletes expired sessions and keeps live ones', async () => {
    const clock = new ManualClock();
    const operators = build(clock);
    await operators.createOperator({ username: 'kim', password: 'kim-password', role: 'operator', actor: { operatorId: null, ip: null } });
    await operators.login({ username: 'kim', password: 'kim-password', ip: null });
    clock.advance(13 * 60 * 60 * 1000);
    const live = await operators.login({ username: 'kim', password: 'kim-password', ip: null });
    if (!live.ok) throw new Error('not logged in');
    expect(await operators.pruneExpiredSessions(clock.now())).toBe(1);
    expect((await operators.authenticateSession(live.token))?.operator).toMatchObject({ username: 'kim' });
  });

  it('authenticates a token until it expires or is revoked, and not after the operator is disabled', async () => {
    const clock = new ManualClock();
    const operators = build(clock);
    const created = await operators.createOperator({
      username: 'sam',
      password: 'sam-password',
      role: 'sales',
      wecomUserId: 'sam01',
      actor: { operatorId: null, ip: null },
    });
    if (!created.ok) throw new Error('not created');
    const login = await operators.login({ username: 'sam', password: 'sam-password', ip: '10.0.0.1' });
    if (!login.ok) throw new Error('not logged in');
    expect((await operators.authenticateSession(login.token))?.operator).toMatchObject({
      username: 'sam',
      role: 'sales',
      wecomUserId: 'sam01',
    });
    // A token with its last character changed (to another one: it may already be an A).
    const tampered = `${login.token.slice(0, -1)}${login.token.endsWith('A') ? 'B' : 'A'}`;
    await expect(operators.authenticateSession(tampered)).resolves.toBeNull();
    await expect(operators.authenticateSession('')).resolves.toBeNull();

    clock.advance(12 * 60 * 60 * 1000);
    await expect(operators.authenticateSession(login.token)).resolves.toBeNull();

    const second = await operators.login({ username: 'sam', password: 'sam-password', ip: null });
    if (!second.ok) throw new Error('not logged in');
    await operators.updateOperator({ id: created.operator.id, disabled: true, actor: { operatorId: null, ip: null } });
    await expect(operators.authenticateSession(second.token)).resolves.toBeNull();
  });
});
