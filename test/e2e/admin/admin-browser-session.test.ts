import request from 'supertest';
import { AuditLog } from '../../../entities/audit-log.entity';
import { OperatorSession } from '../../../entities/operator-session.entity';
import { TagGroup } from '../../../entities/tag-group.entity';
import { buildAdminTestApp, type AdminTestApp } from '../../support/admin-app';
import { describeEachDatabase } from '../../support/database';

interface BrowserLogin {
  token: string;
  csrf: string;
  /** The Cookie header a browser sends back. */
  cookie: string;
  setCookie: string[];
}

function setCookiesOf(res: request.Response): string[] {
  const raw: unknown = res.headers['set-cookie'];
  return Array.isArray(raw) ? raw.filter((line): line is string => typeof line === 'string') : [];
}

function cookieLine(setCookie: string[], name: string): string {
  const line = setCookie.find((l) => l.startsWith(`${name}=`));
  if (line === undefined) throw new Error(`no Set-Cookie for ${name}: ${JSON.stringify(setCookie)}`);
  return line;
}

const valueOf = (line: string): string => line.slice(line.indexOf('=') + 1).split(';')[0];

describeEachDatabase('admin API: browser sessions (cookies and CSRF)', (db) => {
  let t: AdminTestApp;

  beforeEach(async () => {
    t = buildAdminTestApp(db().dataSource);
    await t.operators.createOperator({
      username: 'alice',
      password: 'correct horse',
      role: 'admin',
      actor: { operatorId: null, ip: null },
    });
  });

  async function browserLogin(app: AdminTestApp = t, headers: Record<string, string> = {}): Promise<BrowserLogin> {
    const res = await request(app.server)
      .post('/api/admin/login')
      .set(headers)
      .send({ username: 'alice', password: 'correct horse' })
      .expect(200);
    const setCookie = setCookiesOf(res);
    const token = valueOf(cookieLine(setCookie, 'fw_session'));
    const csrf = valueOf(cookieLine(setCookie, 'fw_csrf'));
    return { token, csrf, cookie: `fw_session=${token}; fw_csrf=${csrf}`, setCookie };
  }

  const tagGroupCount = () => db().dataSource.getRepository(TagGroup).count();

  it('login sets fw_session (the session token, httpOnly, SameSite=Lax, the session TTL) and fw_csrf (readable by the page)', async () => {
    const res = await request(t.server).post('/api/admin/login').send({ username: 'alice', password: 'correct horse' }).expect(200);
    const setCookie = setCookiesOf(res);
    const session = cookieLine(setCookie, 'fw_session');
    const csrf = cookieLine(setCookie, 'fw_csrf');
    expect(valueOf(session)).toBe((res.body as { token: string }).token);
    expect(session.split('; ').slice(1).sort()).toEqual(['HttpOnly', 'Max-Age=43200', 'Path=/', 'SameSite=Lax']);
    expect(valueOf(csrf)).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(valueOf(csrf)).not.toBe(valueOf(session));
    expect(csrf.split('; ').slice(1).sort()).toEqual(['Max-Age=43200', 'Path=/', 'SameSite=Lax']);
    // Only the CSRF token's hash is stored with the session.
    const [row] = await db().dataSource.getRepository(OperatorSession).find();
    expect(row.csrfTokenHash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(row)).not.toContain(valueOf(csrf));

    const me = await request(t.server)
      .get('/api/admin/me')
      .set('Cookie', `fw_session=${valueOf(session)}`)
      .expect(200);
    expect(me.body).toMatchObject({ username: 'alice', role: 'admin', mustChangePassword: false });
  });

  it('marks both cookies Secure when the request is HTTPS (X-Forwarded-Proto counts only with TRUST_PROXY)', async () => {
    const proxied = buildAdminTestApp(db().dataSource, { trustProxy: true });
    const secure = await browserLogin(proxied, { 'X-Forwarded-Proto': 'https' });
    expect(cookieLine(secure.setCookie, 'fw_session').split('; ')).toContain('Secure');
    expect(cookieLine(secure.setCookie, 'fw_csrf').split('; ')).toContain('Secure');

    const plain = await browserLogin(proxied);
    expect(plain.setCookie.join('\n')).not.toContain('Secure');
    // Without TRUST_PROXY, anybody could send the header: it is ignored.
    const spoofed = await browserLogin(t, { 'X-Forwarded-Proto': 'https' });
    expect(spoofed.setCookie.join('\n')).not.toContain('Secure');
  });

  it('refuses a cookie-authenticated POST without X-CSRF-Token or with a wrong one (403 csrf_failed, nothing changes) and accepts the right one', async () => {
    const browser = await browserLogin();
    const post = () => request(t.server).post('/api/admin/tag-groups').set('Cookie', browser.cookie);

    const missing = await post().send({ name: 'Expo' }).expect(403);
    expect(missing.body).toEqual({ error: { code: 'csrf_failed', message: 'Missing or wrong X-CSRF-Token header' } });
    await post()
      .set('X-CSRF-Token', `${browser.csrf.slice(0, -1)}${browser.csrf.endsWith('A') ? 'B' : 'A'}`)
      .send({ name: 'Expo' })
      .expect(403);
    await post().set('X-CSRF-Token', browser.token).send({ name: 'Expo' }).expect(403);
    // Another session's CSRF token does not fit this one.
    const other = await browserLogin();
    await post().set('X-CSRF-Token', other.csrf).send({ name: 'Expo' }).expect(403);
    expect(await tagGroupCount()).toBe(0);

    await post().set('X-CSRF-Token', browser.csrf).send({ name: 'Expo' }).expect(201);
    expect(await tagGroupCount()).toBe(1);
    // Reads need no token.
    await request(t.server).get('/api/admin/tag-groups').set('Cookie', browser.cookie).expect(200);
  });

  it('needs no CSRF token with a bearer token, and never falls back to the cookie when the Authorization header is wrong', async () => {
    const browser = await browserLogin();
    await request(t.server)
      .post('/api/admin/tag-groups')
      .set('Authorization', `Bearer ${browser.token}`)
      .send({ name: 'Scripted' })
      .expect(201);
    const junk = await request(t.server)
      .post('/api/admin/tag-groups')
      .set('Cookie', browser.cookie)
      .set('Authorization', 'Bearer nonsense')
      .send({ name: 'Sneaky' })
      .expect(401);
    expect((junk.body as { error: { code: string } }).error.code).toBe('unauthorized');
    expect(await tagGroupCount()).toBe(1);
  });

  it('logout (with the CSRF token) revokes the session and clears both cookies', async () => {
    const browser = await browserLogin();
    await request(t.server).post('/api/admin/logout').set('Cookie', browser.cookie).expect(403);
    const res = await request(t.server)
      .post('/api/admin/logout')
      .set('Cookie', browser.cookie)
      .set('X-CSRF-Token', browser.csrf)
      .expect(204);
    const cleared = setCookiesOf(res);
    for (const name of ['fw_session', 'fw_csrf']) {
      const line = cookieLine(cleared, name);
      expect(valueOf(line)).toBe('');
      expect(line).toContain('Max-Age=0');
      expect(line).toContain('Path=/');
    }
    await request(t.server).get('/api/admin/me').set('Cookie', browser.cookie).expect(401);
    await request(t.server).get('/api/admin/me').set('Authorization', `Bearer ${browser.token}`).expect(401);
    const logout = await db().dataSource.getRepository(AuditLog).findOneBy({ action: 'logout' });
    expect(logout).not.toBeNull();
  });

  it('answers 401 unauthorized for an unknown or expired cookie', async () => {
    const browser = await browserLogin();
    const unknown = await request(t.server)
      .get('/api/admin/me')
      .set('Cookie', `fw_session=${'x'.repeat(43)}`)
      .expect(401);
    expect(unknown.body).toEqual({ error: { code: 'unauthorized', message: 'Authentication required' } });
    t.clock.advance(12 * 60 * 60 * 1000);
    await request(t.server).get('/api/admin/me').set('Cookie', browser.cookie).expect(401);
  });

  it('GET /api/admin/config answers the page settings to any role', async () => {
    const sales = await t.signIn({ username: 'rep', role: 'sales', wecomUserId: 'rep01' });
    const res = await request(t.server).get('/api/admin/config').set('Authorization', `Bearer ${sales}`).expect(200);
    expect(res.body).toEqual({ sandbox: true, timezone: 'Asia/Shanghai', locale: 'zh-CN' });
    await request(t.server).get('/api/admin/config').expect(401);
  });

  it('enforces the roles: admin everything, operator marketing configuration, sales only contacts', async () => {
    const admin = await t.signIn({ username: 'root', role: 'admin' });
    const operator = await t.signIn({ username: 'marketer', role: 'operator' });
    const sales = await t.signIn({ username: 'rep', role: 'sales', wecomUserId: 'rep01' });
    const adminOnly = ['/api/admin/operators', '/api/admin/audit-log'];
    const marketing = ['/api/admin/tag-groups', '/api/admin/tags', '/api/admin/tag-rules', '/api/admin/failed-work?kind=tasks'];
    const everyone = ['/api/admin/contacts', '/api/admin/contacts/count', '/api/admin/me', '/api/admin/config'];
    const status = async (token: string, path: string) =>
      (await request(t.server).get(path).set('Authorization', `Bearer ${token}`)).status;
    const table: Record<string, number[]> = {};
    for (const path of [...adminOnly, ...marketing, ...everyone])
      table[path] = [await status(admin, path), await status(operator, path), await status(sales, path)];
    expect(table).toEqual({
      ...Object.fromEntries(adminOnly.map((p) => [p, [200, 403, 403]])),
      ...Object.fromEntries(marketing.map((p) => [p, [200, 200, 403]])),
      ...Object.fromEntries(everyone.map((p) => [p, [200, 200, 200]])),
    });
  });
});
