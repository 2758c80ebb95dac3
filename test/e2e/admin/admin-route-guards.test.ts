import request from 'supertest';
import { OperatorSession } from '../../../entities/operator-session.entity';
import { TagGroup } from '../../../entities/tag-group.entity';
import { describeEachDatabase } from '../../support/database';
import { startTestStack, type TestStack } from '../../support/test-stack';

interface Route {
  method: string;
  /** The route's path with its parameters filled in. */
  path: string;
  pattern: string;
}

/** Routes anyone may call without a session, and why. A new public route must be added here. */
const PUBLIC_ROUTES: Record<string, string> = {
  'POST /api/admin/login': 'it is how a session starts (JSON only, throttled)',
  'GET /wechat/callback': 'URL verification, signed with the Official Account token',
  'POST /wechat/callback': 'signed callbacks (signature, msg_signature)',
  'GET /wecom/callback': 'URL verification, signed with the WeCom token',
  'POST /wecom/callback': 'signed, encrypted callbacks',
  'GET /readyz': "the load balancer's probe: it tells only whether this instance is ready",
  'GET /metrics': 'its own bearer (METRICS_TOKEN) or loopback clients only, tested in test/e2e/ops/metrics.test.ts',
  'GET /r/:code': 'a tracked link in a message: an HMAC-signed code, tested in test/e2e/journeys/reactivation-journey.test.ts',
  'POST /pay/notify':
    "WeChat Pay's notifications, signed (certificate or public key) and encrypted, tested in test/integration/payments/payments.test.ts",
  // The public exhibition API the invitation page calls: no login by design, rate limited per IP and
  // per phone in the database, tested in test/e2e/exhibitions/exhibitions.test.ts.
  'GET /api/events/:eventId': 'the public event page reads its event (no private field)',
  'POST /api/events/:eventId/visits': 'a visit of the invitation page (a random visitor id), rate limited per IP',
  'POST /api/events/:eventId/sms-codes': 'a registration code to a phone, rate limited per IP and per phone',
  'POST /api/events/:eventId/registrations': 'a visitor registers (consent required), rate limited per IP and per phone',
  'POST /api/events/:eventId/registrations/cancel': 'the holder of the signed ticket cancels it (the HMAC token is the key)',
  'POST /api/events/:eventId/registrations/pay': "the holder of the signed ticket pays it: its own order's pay-sign parameters",
  'GET /api/events/:eventId/tickets/:token': "a ticket's state, for the holder of the signed token",
  'GET /api/events/:eventId/tickets/:token/qr.png': "a ticket's QR image, for the holder of the signed token",
  'GET /api/events/:eventId/cloud': "the cloud exhibition page reads the event's public materials (tracked links only)",
  'POST /api/events/:eventId/cloud/visits': 'a visit of the cloud exhibition (a random visitor id), rate limited per IP',
  'POST /api/events/:eventId/consults':
    'an online consult to the rep, rate limited per IP and per phone (test/e2e/exhibitions/event-cloud.test.ts)',
  'GET /api/events/:eventId/survey':
    "the survey's questions, for the holder of the signed survey link (test/e2e/exhibitions/event-after.test.ts)",
  'POST /api/events/:eventId/survey-answers': 'one answer per signed survey link (a forged link: 400, a second answer: 409)',
  // The content centre's tracked links: the unguessable code is the key, tested in test/e2e/content/content-centre.test.ts.
  'GET /c/:code': "a material's page through its tracked link",
  'GET /c/:code/file': "a material's file, with ranges",
  'POST /c/:code/beacon': "the page's read-time beacon (bounded, the latest wins)",
  // The offer page (一元体验): a product anyone may read; orders only for a visitor web OAuth
  // identified, each their own; tested in test/e2e/payments/offers.test.ts.
  'GET /api/offers/:productId': 'an active product as the offer page shows it',
  'POST /api/offers/:productId/orders': "a JSAPI order for the WeChat visitor's own openid (401 without one)",
  'GET /api/offers/orders/:orderId': "the visitor's own order's state (404 for anyone else's)",
  // The mini-program's API (server/http/mp.routes.ts): login opens a session from wx.login's code
  // (code2Session, rate limited per IP); every other route takes that session's bearer token (401
  // mp_session_required without one) and is limited per session and per IP; check-in is staff only
  // (403 mp_staff_only). Tested in test/e2e/miniprogram/mp-sessions.test.ts and mp-events.test.ts.
  'POST /api/mp/login': 'how a mini-program session starts: a wx.login code exchanged through code2Session',
  'GET /api/mp/me': "the session's own state (phone bound, staff binding)",
  'POST /api/mp/phone': "the session's own phone number, from getPhoneNumber's code",
  'POST /api/mp/subscribe-consent': "the session's own subscribe-message answers",
  'GET /api/mp/events': 'the public events, as the invitation page shows them, for a session',
  'GET /api/mp/events/:eventId': 'a public event, for a session (its visit recorded)',
  'POST /api/mp/events/:eventId/registrations': "the session's contact registers (the H5 page's rules and limits)",
  'GET /api/mp/me/tickets': "the session's own tickets",
  'POST /api/mp/staff/bind': "an admin's one-time binding code makes the session's user staff",
  'POST /api/mp/checkins': "staff only (a bound operator), the admin scanner's check-in",
  'POST /api/mp/content/:code/views': "a session's view of a material through its unguessable code",
  'POST /api/mp/events/:eventId/registrations/pay': "the session's contact pays its own unpaid registration (its own order)",
  'GET /api/mp/config': "the register page's subscribe-message template ids (public identifiers), for a session",
  'GET /api/mp/content/:code': 'a live material through its unguessable code, for a session',
  'GET /api/mp/events/:eventId/cloud': "an event's cloud exhibition, as the H5 page shows it, for a session (its visit recorded)",
  'POST /api/mp/events/:eventId/cloud/consult': "the session's contact asks the event's rep (the H5 consult's rules and limits)",
  'GET /api/mp/events/:eventId/survey': "the event's survey for the session's contact, when registered",
  'POST /api/mp/events/:eventId/survey/answers': "the session's contact answers the survey (the H5 answer's rules)",
  'GET /api/mp/cards': "a company's rep cards, for a session (what the cards page lists)",
  'GET /api/mp/cards/:operatorId': "a rep's card, for a session (the view and its share chain recorded)",
  'POST /api/mp/cards/:operatorId/views': "the session's own viewing time of a card",
  'POST /api/mp/cards/:operatorId/actions': "the session's contact saves the card, adds the rep or leaves their phone",
  'POST /api/mp/channel-visits':
    "the session's launch through a channel's code, attributed to its own contact (test/e2e/miniprogram/mp-channel-visits.test.ts)",
};
/** What a session that must still change its generated password may use. */
const PENDING_PASSWORD_ROUTES = new Set(['GET /api/admin/me', 'POST /api/admin/logout', 'POST /api/admin/me/password']);
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

const PARAMS: Record<string, string> = { id: '1', kind: 'tasks' };

/**
 * Every route the server mounts (compose.ts's routers, not a list kept by hand), checked for what a
 * request without a session, a cookie without its CSRF token and a session with a generated
 * password get: a route added without requireOperator, or with its gate opened, fails here.
 */
describeEachDatabase('admin API: every route is closed unless it says otherwise', (db) => {
  let stack: TestStack;
  beforeEach(async () => {
    stack = await startTestStack(db());
  });
  afterEach(async () => {
    await stack.close();
  });

  function routes(): Route[] {
    return stack.services.routers.flatMap((router) =>
      router.stack.flatMap((layer) => {
        const pattern = String(layer.path);
        const path = pattern.replace(/:([A-Za-z]+)/g, (_, name: string) => PARAMS[name] ?? '1');
        return layer.methods.filter((method) => method !== 'HEAD').map((method) => ({ method, path, pattern }));
      }),
    );
  }
  const key = (r: Route) => `${r.method} ${r.pattern}`;
  function send(r: Route, headers: Record<string, string>): request.Test {
    const agent = request(stack.app.callback());
    const method = r.method.toLowerCase() as 'get' | 'post' | 'patch' | 'delete' | 'put';
    const req = agent[method](r.path).set(headers).set('Content-Type', 'application/json');
    return r.method === 'GET' ? req : req.send('{}');
  }

  async function login(username: string, password: string): Promise<{ token: string; cookie: string; csrf: string }> {
    const res = await request(stack.app.callback()).post('/api/admin/login').send({ username, password }).expect(200);
    const cookies = (res.headers['set-cookie'] as unknown as string[]).map((line) => line.split(';')[0]);
    const csrf = cookies.find((c) => c.startsWith('fw_csrf='))?.slice('fw_csrf='.length) ?? '';
    return { token: (res.body as { token: string }).token, cookie: cookies.join('; '), csrf };
  }

  it('the routes outside /api/admin and /api/sidebar are the signed callbacks, and every other route but login needs a session', async () => {
    const all = routes();
    expect(all.length).toBeGreaterThan(30);
    // The WeCom sidebar's API (/api/sidebar) takes the same operator sessions as /api/admin.
    const outside = all.filter((r) => !r.pattern.startsWith('/api/admin/') && !r.pattern.startsWith('/api/sidebar/')).map(key);
    expect(outside.filter((k) => !(k in PUBLIC_ROUTES))).toEqual([]);
    const answers: string[] = [];
    for (const r of all) {
      if (key(r) in PUBLIC_ROUTES) continue;
      const res = await send(r, {});
      answers.push(`${key(r)} ${res.status} ${(res.body as { error?: { code?: string } }).error?.code ?? ''}`);
    }
    expect(answers.filter((a) => !a.endsWith(' 401 unauthorized'))).toEqual([]);
  });

  it('a cookie without X-CSRF-Token may read but not write, on every route (logout and the password change included)', async () => {
    await stack.services.operators.createOperator({
      username: 'alice',
      password: 'correct horse',
      role: 'admin',
      actor: { operatorId: null, ip: null },
    });
    const alice = await login('alice', 'correct horse');
    const writes = routes().filter((r) => !SAFE_METHODS.has(r.method) && !(key(r) in PUBLIC_ROUTES));
    expect(writes.length).toBeGreaterThan(15);
    const refused: string[] = [];
    for (const r of writes) {
      const res = await send(r, { Cookie: alice.cookie });
      refused.push(`${key(r)} ${res.status} ${(res.body as { error?: { code?: string } }).error?.code ?? ''}`);
      // A wrong token is no better than none.
      const wrong = await send(r, { Cookie: alice.cookie, 'X-CSRF-Token': `${alice.csrf.slice(1)}x` });
      expect(`${key(r)} ${wrong.status}`).toBe(`${key(r)} 403`);
    }
    expect(refused.filter((a) => !a.endsWith(' 403 csrf_failed'))).toEqual([]);
    expect(await db().dataSource.getRepository(TagGroup).count()).toBe(0);
    // The session is still alive: logout was refused like the rest.
    await request(stack.app.callback()).get('/api/admin/me').set('Cookie', alice.cookie).expect(200);
  });

  it('a logged-out session and an expired one get 401 on every route; logout clears both cookies with the flags they were set with', async () => {
    await stack.services.operators.createOperator({
      username: 'bob',
      password: 'correct horse',
      role: 'admin',
      actor: { operatorId: null, ip: null },
    });
    const out = await login('bob', 'correct horse');
    const expired = await login('bob', 'correct horse');
    const res = await request(stack.app.callback())
      .post('/api/admin/logout')
      .set('Cookie', out.cookie)
      .set('X-CSRF-Token', out.csrf)
      .expect(204);
    const cleared = (res.headers['set-cookie'] as unknown as string[]).map((line) => line.split('; ').sort().join('; '));
    expect(cleared).toEqual([
      'Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; Max-Age=0; Path=/; SameSite=Lax; fw_session=',
      'Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/; SameSite=Lax; fw_csrf=',
    ]);
    // The operators' clock is the real one in the stack: the session's end is moved instead.
    await db()
      .dataSource.getRepository(OperatorSession)
      .createQueryBuilder()
      .update()
      .set({ expiresAt: new Date(Date.now() - 1000) })
      .where('revoked_at IS NULL')
      .execute();
    const answers: string[] = [];
    for (const r of routes()) {
      if (key(r) in PUBLIC_ROUTES) continue;
      for (const session of [out, expired]) {
        for (const headers of [
          { Authorization: `Bearer ${session.token}` },
          { Cookie: session.cookie, 'X-CSRF-Token': session.csrf },
        ] as Record<string, string>[]) {
          const answer = await send(r, headers);
          answers.push(`${key(r)} ${answer.status}`);
        }
      }
    }
    expect(answers.filter((a) => !a.endsWith(' 401'))).toEqual([]);
  });

  it('a session with a generated password reaches nothing but me, logout and the password change, by cookie or bearer', async () => {
    const generated = await stack.services.operators.ensureFirstRunAdmin();
    if (!generated) throw new Error('no first-run admin');
    const first = await login(generated.username, generated.password);
    const answers: string[] = [];
    for (const r of routes()) {
      if (key(r) in PUBLIC_ROUTES || PENDING_PASSWORD_ROUTES.has(key(r))) continue;
      const ways: Record<string, string>[] = [
        { Authorization: `Bearer ${first.token}` },
        { Cookie: first.cookie, 'X-CSRF-Token': first.csrf },
      ];
      for (const headers of ways) {
        const res = await send(r, headers);
        answers.push(`${key(r)} ${res.status} ${(res.body as { error?: { code?: string } }).error?.code ?? ''}`);
      }
    }
    expect(answers.length).toBeGreaterThan(60);
    expect(answers.filter((a) => !a.endsWith(' 403 password_change_required'))).toEqual([]);
    const me = await request(stack.app.callback()).get('/api/admin/me').set('Cookie', first.cookie).expect(200);
    expect(me.body).toMatchObject({ username: 'admin', mustChangePassword: true });
  });
});
