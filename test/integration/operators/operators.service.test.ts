import { AuditLog } from '../../../entities/audit-log.entity';
import { Operator } from '../../../entities/operator.entity';
import { ManualClock } from '../../../server/adapters/clock';
import { createLogger } from '../../../server/adapters/logger';
import { AuditService } from '../../../server/modules/audit/audit.service';
import { OperatorsService } from '../../../server/modules/operators/operators.service';
import { hashPassword, verifyPassword } from '../../../server/modules/operators/password-hash';
import { describeEachDatabase } from '../../support/database';

describe('password hash', () => {
  it('stores scrypt N=2^15 r=8 p=1 with a 16-byte salt and a 64-byte key, and verifies', async () => {
    const stored = await hashPassword('s3cret pässword');
    const [scheme, n, r, p, salt, key] = stored.split('$');
    expect([scheme, n, r, p]).toEqual(['scrypt', '32768', '8', '1']);
    expect(Buffer.from(salt, 'base64')).toHaveLength(16);
    expect(Buffer.from(key, 'base64')).toHaveLength(64);
    await expect(verifyPassword('s3cret pässword', stored)).resolves.toBe(true);
    await expect(verifyPassword('s3cret passwort', stored)).resolves.toBe(false);
    expect(await hashPassword('s3cret pässword')).not.toBe(stored);
  });

  it('treats a malformed or out-of-bounds stored value as no match', async () => {
    await expect(verifyPassword('x', 'plaintext')).resolves.toBe(false);
    await expect(verifyPassword('x', 'scrypt$3$8$1$AAAA$AAAAAAAAAAAAAAAAAAAAAA==')).resolves.toBe(false);
    await expect(verifyPassword('x', `scrypt$${2 ** 30}$8$1$AAAA$AAAAAAAAAAAAAAAAAAAAAA==`)).resolves.toBe(false);
  });
});

describeEachDatabase('OperatorsService', (db) => {
  const build = (clock = new ManualClock()) => {
    const dataSource = db().dataSource;
    const audit = new AuditService({ dataSource, clock });
    return new OperatorsService({ dataSource, clock, logger: createLogger('silent'), audit });
  };

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

  it('counts parallel wrong passwords without losing any, so guessing in parallel still locks', async () => {
    const operators = build();
    await operators.createOperator({ username: 'eve', password: 'right-password', role: 'operator', actor: { operatorId: null, ip: null } });
    const results = await Promise.all(Array.from({ length: 5 }, (_, i) => operators.login({ username: 'eve', password: `guess-${i}`, ip: null })));
    expect(results.filter((r) => !r.ok && r.reason === 'account_locked').length).toBeGreaterThanOrEqual(1);
    const result = await operators.login({ username: 'eve', password: 'right-password', ip: null });
    expect(result).toMatchObject({ ok: false, reason: 'account_locked' });
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
    await expect(operators.authenticate(live.token)).resolves.toMatchObject({ username: 'kim' });
  });

  it('authenticates a token until it expires or is revoked, and not after the operator is disabled', async () => {
    const clock = new ManualClock();
    const operators = build(clock);
    const created = await operators.createOperator({ username: 'sam', password: 'sam-password', role: 'sales', wecomUserId: 'sam01', actor: { operatorId: null, ip: null } });
    if (!created.ok) throw new Error('not created');
    const login = await operators.login({ username: 'sam', password: 'sam-password', ip: '10.0.0.1' });
    if (!login.ok) throw new Error('not logged in');
    await expect(operators.authenticate(login.token)).resolves.toMatchObject({ username: 'sam', role: 'sales', wecomUserId: 'sam01' });
    // A token with its last character changed (to another one: it may already be an A).
    const tampered = `${login.token.slice(0, -1)}${login.token.endsWith('A') ? 'B' : 'A'}`;
    await expect(operators.authenticate(tampered)).resolves.toBeNull();
    await expect(operators.authenticate('')).resolves.toBeNull();

    clock.advance(12 * 60 * 60 * 1000);
    await expect(operators.authenticate(login.token)).resolves.toBeNull();

    const second = await operators.login({ username: 'sam', password: 'sam-password', ip: null });
    if (!second.ok) throw new Error('not logged in');
    await operators.updateOperator({ id: created.operator.id, disabled: true, actor: { operatorId: null, ip: null } });
    await expect(operators.authenticate(second.token)).resolves.toBeNull();
  });
});
