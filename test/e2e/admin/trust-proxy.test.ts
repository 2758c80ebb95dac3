import request from 'supertest';
import { AuditLog } from '../../../entities/audit-log.entity';
import { describeEachDatabase } from '../../support/database';
import { startTestStack, type TestStack } from '../../support/test-stack';

/** The IP an audit row records for a login, with X-Forwarded-For claiming another one. */
describeEachDatabase('TRUST_PROXY decides whether X-Forwarded-For names the client', (db) => {
  let stack: TestStack | undefined;
  afterEach(async () => {
    await stack?.close();
    stack = undefined;
  });

  async function loginIpWith(env: NodeJS.ProcessEnv): Promise<string | null> {
    stack = await startTestStack(db(), env);
    await stack.services.operators.createOperator({
      username: 'alice',
      password: 'correct horse',
      role: 'admin',
      actor: { operatorId: null, ip: null },
    });
    await request(stack.app.callback())
      .post('/api/admin/login')
      .set('X-Forwarded-For', '203.0.113.7')
      .send({ username: 'alice', password: 'correct horse' })
      .expect(200);
    const row = await db().dataSource.getRepository(AuditLog).findOneByOrFail({ action: 'login' });
    return row.ip;
  }

  it('off (the default): the header is ignored and the socket address is recorded', async () => {
    const ip = await loginIpWith({});
    expect(ip).not.toBe('203.0.113.7');
    expect(ip).toContain('127.0.0.1');
  });

  it('on: the forwarded address is recorded', async () => {
    await expect(loginIpWith({ TRUST_PROXY: 'true' })).resolves.toBe('203.0.113.7');
  });
});
