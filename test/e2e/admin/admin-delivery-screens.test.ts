import request from 'supertest';
import type { OperatorRole } from '../../../entities/operator.entity';
import type { OutboxDraft } from '../../../server/modules/outbox/outbox.service';
import { toSqlDate } from '../../../server/db/sql';
import { describeEachDatabase } from '../../support/database';
import { offerPayload, seedFollowers } from '../../support/outbox-fixtures';
import { startTestStack, type TestStack } from '../../support/test-stack';

/** 23:30 in Shanghai: inside the default quiet hours (22:00–08:00). */
const NIGHT = new Date('2026-12-07T15:30:00.000Z');

/**
 * The API beside the broadcasts and journeys routes that the 群发, 模板库 and 推送设置 screens read
 * (server/http/admin-delivery-screens.routes.ts): quiet hours and caps read, saved (audited, roles
 * checked, validated) and applied by the sender without a restart; the template library from the
 * sandbox's get_all_private_template with its keywords, and the field check; the broadcasts list.
 */
describeEachDatabase('admin API: delivery screens', (db) => {
  let stack: TestStack;
  let admin: string;

  const signIn = async (username: string, role: OperatorRole) => {
    const password = `${username}-password-1`;
    const created = await stack.services.operators.createOperator({ username, password, role, actor: { operatorId: null, ip: null } });
    if (!created.ok) throw new Error(created.reason);
    const login = await stack.services.operators.login({ username, password, ip: '127.0.0.1' });
    if (!login.ok) throw new Error(login.reason);
    return login.token;
  };
  const api = (token: string) => ({
    get: (path: string) => request(stack.baseUrl).get(path).set('authorization', `Bearer ${token}`),
    post: (path: string, body: object) => request(stack.baseUrl).post(path).set('authorization', `Bearer ${token}`).send(body),
    put: (path: string, body: object) => request(stack.baseUrl).put(path).set('authorization', `Bearer ${token}`).send(body),
  });

  beforeEach(async () => {
    stack = await startTestStack(db());
    admin = await signIn('admin', 'admin');
  });
  afterEach(async () => {
    await stack.close();
  });

  const everyCap = (cap: { count: number; hours: number } | null) =>
    Object.fromEntries(['oa_template', 'oa_subscribe', 'mp_subscribe', 'oa_custom', 'wecom_group_msg', 'sms'].map((c) => [c, cap]));

  it('reads the environment defaults, saves quiet hours and caps (audited), and the sender applies them at once', async () => {
    const a = api(admin);
    const read = await a.get('/api/admin/delivery-settings').expect(200);
    expect(read.body).toEqual({ quietHours: { start: '22:00', end: '08:00' }, frequencyCaps: everyCap({ count: 3, hours: 24 }) });

    // At night a marketing push waits for the morning.
    stack.clock.set(NIGHT);
    const [contactId] = await seedFollowers({
      dataSource: db().dataSource,
      appId: stack.config.officialAccount.appId,
      count: 1,
      sandbox: stack.sandbox.state,
    });
    const enqueue = (drafts: OutboxDraft[]) => db().dataSource.transaction((manager) => stack.services.outbox.enqueue({ manager, drafts }));
    const draft = (n: number): OutboxDraft => ({
      dedupeKey: `broadcast:${n}:${contactId}`,
      contactId,
      channel: 'oa_template',
      source: { type: 'broadcast', id: String(n) },
      payload: offerPayload(),
    });
    await enqueue([draft(1)]);
    await stack.services.outboxSender.drain();
    expect(stack.sandbox.state.messages.accepted).toHaveLength(0);

    // Quiet hours off and one template message a day: the held push goes now, a second one is capped.
    const saved = await a
      .put('/api/admin/delivery-settings', {
        quietHours: null,
        frequencyCaps: { ...everyCap({ count: 3, hours: 24 }), oa_template: { count: 1, hours: 24 }, sms: null },
      })
      .expect(200);
    expect(saved.body).toEqual({
      quietHours: null,
      frequencyCaps: { ...everyCap({ count: 3, hours: 24 }), oa_template: { count: 1, hours: 24 }, sms: null },
    });
    await db().dataSource.query("UPDATE outbox_messages SET not_before = ? WHERE state = 'pending'", [toSqlDate(NIGHT)]);
    await stack.services.outboxSender.drain();
    expect(stack.sandbox.state.messages.accepted).toHaveLength(1);
    await enqueue([draft(2)]);
    await stack.services.outboxSender.drain();
    const states = await db().dataSource.query<{ state: string; last_error: string | null }[]>(
      'SELECT state, last_error FROM outbox_messages ORDER BY id',
    );
    expect(states.map((r) => [r.state, r.last_error])).toEqual([
      ['sent', null],
      ['skipped', 'frequency_cap'],
    ]);

    expect((await a.get('/api/admin/delivery-settings').expect(200)).body).toEqual(saved.body);
    const audit = await db().dataSource.query<{ action: string; detail: string }[]>(
      "SELECT action, detail FROM audit_log WHERE action = 'delivery_settings.update'",
    );
    expect(audit).toHaveLength(1);
    expect(JSON.parse(audit[0].detail)).toEqual({
      quietHours: ['22:00-08:00', 'off'],
      frequencyCaps: [
        'oa_template=3/24,oa_subscribe=3/24,mp_subscribe=3/24,oa_custom=3/24,wecom_group_msg=3/24,sms=3/24',
        'oa_template=1/24,oa_subscribe=3/24,mp_subscribe=3/24,oa_custom=3/24,wecom_group_msg=3/24,sms=off',
      ],
    });
  });

  it('refuses bad settings field by field, and sales operators', async () => {
    const a = api(admin);
    const refused = await a
      .put('/api/admin/delivery-settings', {
        quietHours: { start: '22:00', end: '22:00' },
        frequencyCaps: { ...everyCap(null), sms: { count: 0, hours: 24 } },
      })
      .expect(400);
    const paths = (refused.body as { error: { details: { path: string; code: string }[] } }).error.details.map((d) => [d.path, d.code]);
    expect(paths).toEqual(
      expect.arrayContaining([
        ['quietHours.end', 'custom'],
        ['frequencyCaps.sms.count', 'too_small'],
      ]),
    );
    const sales = api(await signIn('xiaowang', 'sales'));
    await sales.get('/api/admin/delivery-settings').expect(403);
    await sales.get('/api/admin/template-library').expect(403);
    await sales.get('/api/admin/broadcasts').expect(403);
  });

  it('lists the template library from get_all_private_template with each keyword, and checks a draft by the field rules', async () => {
    const a = api(admin);
    const library = await a.get('/api/admin/template-library').expect(200);
    const body = library.body as { enabled: boolean; syncedAt: string; items: { templateId: string; title: string; fields: object[] }[] };
    expect(body.enabled).toBe(true);
    expect(body.items.length).toBeGreaterThanOrEqual(2);
    const coupon = body.items.find((t) => t.title === '优惠券到账提醒');
    expect(coupon?.fields).toEqual([
      { key: 'thing1', label: '活动名称', kind: 'thing', example: '老朋友回归礼' },
      { key: 'thing2', label: '优惠内容', kind: 'thing', example: '满100减30' },
      { key: 'time3', label: '有效期至', kind: 'time', example: '2026年12月31日 23:59' },
      { key: 'thing4', label: '温馨提示', kind: 'thing', example: '点击领取，限时有效' },
    ]);
    const calls = () => stack.sandbox.state.callsTo('template/get_all_private_template').length;
    expect(calls()).toBe(1);
    await a.get('/api/admin/template-library').expect(200);
    // A minute's copy: no second call to WeChat, unless the operator asks to sync.
    expect(calls()).toBe(1);
    await a.get('/api/admin/template-library?refresh=1').expect(200);
    expect(calls()).toBe(2);

    const check = await a
      .post('/api/admin/template-library/check', {
        templateId: coupon ? coupon.templateId : '',
        data: { thing1: '一二三四五六七八九十一二三四五六七八九十一', thing2: '换行\n不行', time3: '2026年12月31日', thing4: '好' },
        url: 'ftp://example.com',
      })
      .expect(200);
    expect((check.body as { violations: object[] }).violations).toEqual([
      { field: 'thing1', code: 'too_long', max: 20 },
      { field: 'thing2', code: 'line_break' },
      { field: 'url', code: 'bad_url' },
    ]);
  });

  it('lists broadcasts newest first with their counts', async () => {
    const a = api(admin);
    for (const name of ['第一次', '第二次'])
      await a
        .post('/api/admin/broadcasts', {
          name,
          segmentId: null,
          message: { channel: 'oa_template', templateId: 'SBX_TPL_COUPON_ARRIVED_0001', data: { thing1: name } },
          sendAt: new Date(stack.clock.now().getTime() + 3_600_000).toISOString(),
        })
        .expect(201);
    const list = await a.get('/api/admin/broadcasts').expect(200);
    const items = (list.body as { items: { name: string; status: string; total: number; queued: number; message: object }[] }).items;
    expect(items.map((b) => [b.name, b.status, b.total, b.queued])).toEqual([
      ['第二次', 'scheduled', 0, 0],
      ['第一次', 'scheduled', 0, 0],
    ]);
    expect(items[0].message).toEqual({ template_id: 'SBX_TPL_COUPON_ARRIVED_0001', data: { thing1: { value: '第二次' } } });
  });
});
