import type { Browser, BrowserContext, Page } from 'playwright-core';
import request from 'supertest';
import { launchChromium, screenshot } from '../../support/browser';
import { SIDEBAR_WEB_ROOT } from '../../support/build-web';
import { createTestDatabase, type TestDatabase } from '../../support/database';
import { drainTasks } from '../../support/leases';
import { startTestStack, type TestStack } from '../../support/test-stack';

/**
 * The WeCom sidebar (/sidebar) at WeCom's side-panel size in headless Chromium, against the real
 * server on SQLite. The browser says it is WeCom (`wxwork/…` in its User-Agent), so the real
 * @wecom/jssdk takes its WeCom path; the sandbox plays WeCom: its OAuth2 signs the rep in, and its
 * JS-SDK double (/sandbox/wecom/jsbridge.js, loaded because no real bridge is injected) checks the
 * page's signatures and reports the customer in the chat.
 *
 * The site's public address is a host name Chromium maps to the test server (PUBLIC_BASE_URL: the
 * OAuth2 redirect and the JS-SDK signature are both made for it, as in production).
 */

jest.setTimeout(240_000);

const SITE_HOST = 'sidebar.flywheel.test';
const SITE = `http://${SITE_HOST}`;
const WECOM_USER_AGENT =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36 wxwork/4.1.30 MicroMessenger/7.0.1';
/** The member the sandbox's authorize page signs in (sandbox-wecom-app.ts SANDBOX_DEFAULT_MEMBER). */
const REP_USER_ID = 'SandboxRep';
const CUSTOMER = 'wmSidebarCustomer01';

describe('the WeCom sidebar in the browser', () => {
  let db: TestDatabase;
  let stack: TestStack;
  let browser: Browser;
  let contactId = 0;
  let wantedTagId = 0;
  const contexts: BrowserContext[] = [];
  const actor = { operatorId: null, ip: null };

  /** A WeCom side panel: 360×740, zh-CN, WeCom's User-Agent, an empty cache; signs in through OAuth2 on the way. */
  const openSidebar = async (): Promise<Page> => {
    const context = await browser.newContext({ locale: 'zh-CN', viewport: { width: 360, height: 740 }, userAgent: WECOM_USER_AGENT });
    contexts.push(context);
    const page = await context.newPage();
    await page.goto(`${SITE}/sidebar`);
    return page;
  };

  /** The rep's current chat in the sandbox's JS-SDK double: who, from where, and what fails. */
  const setChat = async (body: Record<string, unknown>): Promise<void> => {
    await request(stack.baseUrl).post('/sandbox/control/wecom-chat').send(body).expect(200);
  };
  type ChatMessage = { msgtype: string; payload: unknown; externalUserId: string };
  const chatMessages = async (): Promise<ChatMessage[]> =>
    (
      (await request(stack.baseUrl).get('/sandbox/control/wecom-chat').expect(200)).body as {
        messages: ChatMessage[];
      }
    ).messages;

  const recordText = (content: string) =>
    stack.services.transactor.run((m) =>
      stack.services.interactions.recordInteraction(m, {
        type: 'text',
        channel: 'wecom',
        occurredAt: stack.clock.now(),
        detail: { content },
        identity: null,
        contactId,
        dedupeKey: `test:sidebar:${content}`,
      }),
    );

  beforeAll(async () => {
    db = await createTestDatabase('sqlite');
    stack = await startTestStack(db, { PUBLIC_BASE_URL: SITE }, { sidebarWebRoot: SIDEBAR_WEB_ROOT, platformTimeoutMs: 15_000 });
    const created = await stack.services.operators.createOperator({
      username: 'rep-li',
      password: 'rep-li-password-1',
      role: 'sales',
      wecomUserId: REP_USER_ID,
      actor,
    });
    if (!created.ok) throw new Error(created.reason);
    // The customer adds the rep on WeCom (the sandbox plays the callback): the rep follows them.
    await stack.player().addExternalContact({ userId: REP_USER_ID, externalUserId: CUSTOMER, name: '王总' });
    await stack.services.reactions.idle();
    await stack.services.reactions.processDue();
    const [row] = await db.dataSource.query<{ contact_id: number | string }[]>(
      "SELECT contact_id FROM contact_identities WHERE kind = 'external_userid' AND value = ?",
      [CUSTOMER],
    );
    contactId = Number(row.contact_id);
    stack.clock.advance(1_000);
    await recordText('想了解一下展会的展位');

    // Tags synced to WeCom: one the customer has, one the rep will add.
    const group = await stack.services.tagCatalog.createTagGroup({ name: '意向', syncWecom: true, actor });
    if (!group.ok) throw new Error(group.reason);
    const had = await stack.services.tagCatalog.createTag({ groupId: group.value.id, name: '已报价', actor });
    const wanted = await stack.services.tagCatalog.createTag({ groupId: group.value.id, name: '高意向', actor });
    if (!had.ok || !wanted.ok) throw new Error('tags not created');
    wantedTagId = wanted.value.id;
    const tag = await stack.services.transactor.run((t) => stack.services.contactTags.ensureTag(t, { group: '意向', name: '已报价' }));
    await stack.services.transactor.run((t) =>
      stack.services.contactTags.applyTags(t, { contactId, add: [tag], remove: [], actor: { kind: 'operator', id: 1 }, cause: 'manual' }),
    );
    await drainTasks(stack.services.queue, { handlers: stack.services.tagSync.handlers() });

    const port = new URL(stack.baseUrl).port;
    browser = await launchChromium([`--host-resolver-rules=MAP ${SITE_HOST} 127.0.0.1:${port}`]);
  });

  afterAll(async () => {
    for (const context of contexts) await context.close();
    await browser?.close();
    await stack?.close();
    await db?.destroy();
  });

  it('a rep opens it on a customer: their timeline and tags; adds a tag (synced), a note, sends the card; new activity appears live', async () => {
    await setChat({ externalUserId: CUSTOMER, entry: 'single_chat_tools', fail: null });
    const page = await openSidebar();
    await page.locator('[data-test=name]').waitFor();
    expect(await page.textContent('[data-test=name]')).toBe('王总');
    expect(await page.textContent('.sb-badges')).toContain('企业微信');
    // The real timeline, in the admin's words: the WeCom add and the customer's message.
    const timeline = page.locator('[data-test=timeline]');
    await timeline.locator('[data-type=text]').waitFor();
    expect(await timeline.locator('[data-type=text]').innerText()).toContain('想了解一下展会的展位');
    expect(await timeline.locator('[data-type=text] .sb-entry-label').innerText()).toBe('发来消息');
    expect(await timeline.locator('[data-type=add_external_contact] .sb-entry-label').innerText()).toBe('添加企业微信');
    // The tags, grouped.
    expect(await page.locator('[data-test=tags] .sb-tag-group').first().innerText()).toContain('意向');
    await page.locator('[data-test=tags] [data-tag=已报价]').waitFor();
    await screenshot(page, 'sidebar-customer');

    // A tag from the picker: on the page, in Flywheel, and marked on the WeCom customer.
    await page.click('[data-test=add-tag]');
    await page.locator('[data-pick=高意向]').click();
    await page.locator('[data-test=tags] [data-tag=高意向]').waitFor();
    await page.locator('[data-test=timeline] [data-type=tag]').first().waitFor();
    const [tagged] = await db.dataSource.query<{ n: number | string }[]>(
      'SELECT COUNT(*) AS n FROM contact_tags WHERE contact_id = ? AND tag_id = ?',
      [contactId, wantedTagId],
    );
    expect(Number(tagged.n)).toBe(1);
    await drainTasks(stack.services.queue, { handlers: stack.services.tagSync.handlers() });
    const marks = stack.sandbox.state.callsTo('externalcontact/mark_tag').map((call) => call.body as Record<string, unknown>);
    expect(marks.at(-1)).toMatchObject({ userid: REP_USER_ID, external_userid: CUSTOMER, remove_tag: [] });
    expect(marks.at(-1)?.add_tag).toEqual(expect.arrayContaining([expect.any(String)]));
    await screenshot(page, 'sidebar-tag-added');

    // A note: stored, and on the timeline.
    await page.fill('[data-test=note-input] textarea', '客户关心展位价格，周五前回电');
    await page.click('[data-test=add-note]');
    await page.locator('[data-test=timeline] [data-type=sales_note]').waitFor();
    expect(await page.locator('[data-test=timeline] [data-type=sales_note]').innerText()).toContain('客户关心展位价格，周五前回电');
    expect(await page.locator('[data-test=notes]').innerText()).toContain('客户关心展位价格，周五前回电');

    // The card: sent into the chat through sendChatMessage with the server's payload, then recorded.
    const rep = await request(stack.baseUrl)
      .post('/api/admin/login')
      .send({ username: 'rep-li', password: 'rep-li-password-1' })
      .expect(200);
    const shareItems = await request(stack.baseUrl)
      .get(`/api/sidebar/share-items?contactId=${contactId}`)
      .set('Authorization', `Bearer ${(rep.body as { token: string }).token}`)
      .expect(200);
    const card = (shareItems.body as { items: { kind: string; message: Record<string, unknown> & { msgtype: string } }[] }).items.find(
      (item) => item.kind === 'card',
    );
    expect(card).toBeDefined();
    await page.click('[data-test=send-card]');
    await page.locator('[data-test=notice]').filter({ hasText: '已发送到聊天' }).waitFor();
    const sent = await chatMessages();
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({
      externalUserId: CUSTOMER,
      msgtype: card?.message.msgtype,
      payload: card?.message[card.message.msgtype],
    });
    await page.locator('[data-test=timeline] [data-type=sidebar_share]').waitFor();
    await screenshot(page, 'sidebar-card-sent');
    // The card's cover is fetched by WeCom, with no session: a plain image, never the sign-in.
    const { imgUrl } = card?.message[card.message.msgtype] as { imgUrl: string };
    const cover = await request(stack.baseUrl).get(new URL(imgUrl).pathname).expect(200);
    expect(cover.headers['content-type']).toBe('image/png');

    // Live: the customer writes again; the page shows it without a reload or a 同步 button.
    stack.clock.advance(1_000);
    await recordText('下午方便通个电话吗');
    await page.locator('[data-test=timeline] [data-type=text]').filter({ hasText: '下午方便通个电话吗' }).waitFor({ timeout: 25_000 });
    await screenshot(page, 'sidebar-live');

    // English on request: the sidebar's words and the admin's timeline words switch together.
    await page.click('[data-test=language]');
    await page.locator('.sb-section-title', { hasText: 'Activity' }).waitFor();
    expect(await timeline.locator('[data-type=text] .sb-entry-label').first().innerText()).toBe('Sent a message');
    await screenshot(page, 'sidebar-english');
  });

  it('opened without a customer in the chat: says to open it from the one-to-one chat', async () => {
    await setChat({ externalUserId: CUSTOMER, entry: 'single_chat_tools', fail: 'without context of external contact' });
    const page = await openSidebar();
    const panel = page.locator('[data-diagnosis=no_customer_context]');
    await panel.waitFor();
    expect(await panel.innerText()).toContain('请从与客户的单聊工具栏打开');
    expect(await panel.innerText()).toContain('getCurExternalContact:fail without context of external contact');
    await screenshot(page, 'sidebar-diagnosis-no-context');
  });

  it('no permission, registered and in the right place: names the app permission and the member setting to change', async () => {
    await setChat({ externalUserId: CUSTOMER, entry: 'single_chat_tools', fail: 'no permission' });
    const page = await openSidebar();
    const panel = page.locator('[data-diagnosis=customer_contact_not_set_up]');
    await panel.waitFor();
    const text = await panel.innerText();
    expect(text).toContain('没有客户联系权限');
    expect(text).toContain('可调用接口的应用');
    expect(text).toContain('使用范围');
    await screenshot(page, 'sidebar-diagnosis-no-permission');
  });

  it('invalid signature: shows the URL that was signed beside the page URL, and the clocks', async () => {
    await setChat({ externalUserId: CUSTOMER, entry: 'single_chat_tools', fail: 'invalid signature' });
    const page = await openSidebar();
    const panel = page.locator('[data-diagnosis=invalid_signature]');
    await panel.waitFor();
    expect(await panel.innerText()).toContain('JS-SDK 签名无效');
    expect(await panel.locator('[data-fact="diag.fact.signedUrl"]').innerText()).toBe(`${SITE}/sidebar/`);
    expect(await panel.locator('[data-fact="diag.fact.pageUrl"]').innerText()).toMatch(new RegExp(`^${SITE}/sidebar/`));
    expect(await panel.locator('[data-fact="diag.fact.deviceClock"]').innerText()).toMatch(/^\d+ \([+-]\d+ s\)$/);
    await screenshot(page, 'sidebar-diagnosis-invalid-signature');
    await setChat({ fail: null });
  });
});
