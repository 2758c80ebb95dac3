import request from 'supertest';
import { createDataSource } from '../../../server/db/data-source';
import { describeEachDatabase } from '../../support/database';
import { startTestStack, type TestStack } from '../../support/test-stack';

/** /healthz says the process lives; /readyz whether it should get traffic. */
describeEachDatabase('GET /healthz and GET /readyz', (db) => {
  let stack: TestStack | undefined;
  afterEach(async () => {
    await stack?.close();
    stack = undefined;
  });

  it('both 200 when the database answers, every migration has run and the process is not draining', async () => {
    stack = await startTestStack(db());
    await request(stack.app.callback()).get('/healthz').expect(200, { status: 'ok' });
    await request(stack.app.callback()).get('/readyz').expect(200, { status: 'ready', database: 'ok', migrations: 'applied' });
  });

  it('/readyz 503 while a migration is pending', async () => {
    stack = await startTestStack(db());
    const ds = db().dataSource;
    const [newest]: { id: number; timestamp: number | string; name: string }[] = await ds.query(
      'SELECT id, timestamp, name FROM migrations ORDER BY id DESC LIMIT 1',
    );
    await ds.query('DELETE FROM migrations WHERE id = ?', [newest.id]);
    try {
      await request(stack.app.callback()).get('/readyz').expect(503, { status: 'not_ready', database: 'ok', migrations: 'pending' });
    } finally {
      await ds.query('INSERT INTO migrations (id, timestamp, name) VALUES (?, ?, ?)', [newest.id, newest.timestamp, newest.name]);
    }
  });

  it('/readyz 503 while the database does not answer; /healthz still 200 (an outage must not restart every instance)', async () => {
    const own = await createDataSource(db().config, { poolSize: 2 });
    await own.initialize();
    stack = await startTestStack({ dataSource: own });
    await own.destroy();
    await request(stack.app.callback()).get('/readyz').expect(503, { status: 'not_ready', database: 'unavailable', migrations: 'unknown' });
    await request(stack.app.callback()).get('/healthz').expect(200, { status: 'ok' });
  });

  it('/readyz 503 while draining, /healthz 200', async () => {
    stack = await startTestStack(db());
    stack.services.drainGate.close();
    await request(stack.app.callback()).get('/readyz').expect(503, { status: 'draining' });
    await request(stack.app.callback()).get('/healthz').expect(200);
  });
});
