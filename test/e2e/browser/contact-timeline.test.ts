import { type Browser, type Page } from 'playwright-core';
import { launchChromium, openSignedIn, screenshot } from '../../support/browser';
import { ADMIN_WEB_ROOT } from '../../support/build-web';
import { createTestDatabase, type TestDatabase } from '../../support/database';
import { startTestStack, type TestStack } from '../../support/test-stack';

/**
 * The contact page's timeline as a conversation, in headless Chromium against the real server on
 * SQLite: a follower played through the sandbox (follows by a QR code, writes, clicks a menu), an
 * operator tags and untags them by hand (removal asks first), and every change names who made it.
 */
const ADMIN = { username: 'admin', password: 'admin-password-1' };
const OPERATOR_NAME = '李经理';
const actor = { operatorId: null, ip: null };
const MESSAGE = '你好，想了解展会门票';

/** Pictographs and the emoji presentation selector: what needs an emoji font to show. */
const EMOJI = /[\p{Extended_Pictographic}\u{FE0F}]/u;

jest.setTimeout(120_000);

describe('the contact timeline in the browser', () => {
  let db: TestDatabase;
  let stack: TestStack;
  let browser: Browser;
  let page: Page;
  let contactId = 0;
  let openid = '';

  const url = (p: string) => `${stack.baseUrl}/admin${p}`;
  const shot = (name: string) => screenshot(page, `contact-timeline-${name}`);
  const item = (kind: string, text: string) => page.locator(`[data-test=timeline-item][data-kind=${kind}]`, { hasText: text });
  const bodyText = () => page.locator('body').innerText();

  async function tagNames(): Promise<string[]> {
    const login = await stack.services.operators.login({ ...ADMIN, ip: '127.0.0.1' });
    if (!login.ok) throw new Error('admin login failed');
    const response = await fetch(`${stack.baseUrl}/api/admin/contacts/${contactId}`, {
      headers: { Authorization: `Bearer ${login.token}` },
    });
    return ((await response.json()) as { tags: { name: string }[] }).tags.map((t) => t.name);
  }

  beforeAll(async () => {
    db = await createTestDatabase('sqlite');
    stack = await startTestStack(db, {}, { adminWebRoot: ADMIN_WEB_ROOT });
    const created = await stack.services.operators.createOperator({ ...ADMIN, displayName: OPERATOR_NAME, role: 'admin', actor });
    if (!created.ok) throw new Error(`could not create the admin: ${created.reason}`);
    const group = await stack.services.tagCatalog.createTagGroup({ name: '兴趣', actor });
    if (!group.ok) throw new Error('could not create the tag group');
    const tag = await stack.services.tagCatalog.createTag({ groupId: group.value.id, name: '咖啡', actor });
    if (!tag.ok) throw new Error('could not create the tag');

    const player = stack.player();
    const followed = await player.subscribe({ scene: 'expo2026' });
    openid = followed.openid;
    await player.sendText({ openid, content: MESSAGE });
    await player.clickMenu({ openid, key: 'latest_news' });
    await stack.services.reactions.idle();
    const [row] = await db.dataSource.query<{ contact_id: number | string }[]>(
      'SELECT contact_id FROM contact_identities WHERE value = ?',
      [openid],
    );
    contactId = Number(row.contact_id);

    browser = await launchChromium();
    page = await openSignedIn(browser, stack.baseUrl, ADMIN);
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.close();
    await db?.destroy();
  });

  it('shows the customer’s words large with readable labels, and the technical fields only after 详情', async () => {
    await page.goto(url(`/contacts/${contactId}`));
    const text = page.locator('[data-test=timeline-item][data-type=text]');
    await text.waitFor();
    await expect(text.locator('[data-test=timeline-words]').innerText()).resolves.toBe(MESSAGE);
    await expect(text.locator('[data-test=timeline-label]').innerText()).resolves.toBe('发来消息');
    await expect(text.innerText()).resolves.toContain('公众号');
    // The words are the largest text of the entry.
    const sizes = await page.evaluate<{ words: number; label: number }>(`(() => {
      const entry = document.querySelector('[data-test=timeline-item][data-type=text]');
      const px = (selector) => parseFloat(getComputedStyle(entry.querySelector(selector)).fontSize);
      return { words: px('[data-test=timeline-words]'), label: px('[data-test=timeline-label]') };
    })()`);
    expect(sizes.words).toBeGreaterThan(sizes.label);
    await expect(page.locator('[data-test=timeline-item][data-type=click] [data-test=timeline-words]').innerText()).resolves.toBe(
      '菜单：latest_news',
    );
    await expect(page.locator('[data-test=timeline-item][data-type=subscribe] [data-test=timeline-words]').innerText()).resolves.toBe(
      '渠道：expo2026',
    );

    // No label is a code (oa, text, subscribe): every label and channel chip is Chinese.
    const labels = await page.locator('[data-test=timeline-label], .entry-channel').allInnerTexts();
    expect(labels.length).toBeGreaterThan(5);
    for (const label of labels) expect(label).not.toMatch(/^[\x20-\x7e]+$/);

    // The openid, the msgId and the ticket stay folded until 详情 is clicked.
    expect(await page.locator('[data-test=timeline]').innerText()).not.toContain(openid);
    await expect(text.locator('[data-test=timeline-facts]').count()).resolves.toBe(0);
    await text.locator('[data-test=timeline-details]').click();
    await text.locator('[data-test=timeline-facts]').waitFor();
    await expect(text.locator('[data-test=timeline-facts]').innerText()).resolves.toContain(openid);
    await expect(text.locator('[data-test=timeline-facts]').innerText()).resolves.toContain('消息 ID');
    await text.scrollIntoViewIfNeeded();
    await shot('conversation-details-open');
    await text.locator('[data-test=timeline-details]').click();
    await expect(text.locator('[data-test=timeline-facts]').count()).resolves.toBe(0);
  });

  it('names the rule behind the tags and the points it gave', async () => {
    const channelTag = item('tag_change', 'expo2026');
    await channelTag.waitFor();
    await expect(channelTag.locator('[data-test=timeline-label]').innerText()).resolves.toBe('添加标签');
    await expect(channelTag.locator('[data-test=timeline-actor]').innerText()).resolves.toBe('操作人：规则 扫码关注渠道标签');
    const points = item('score', '+5 分');
    await expect(points.locator('[data-test=timeline-actor]').innerText()).resolves.toBe('操作人：规则 扫码关注渠道标签');
    await expect(item('score', '规则 发消息互动').locator('[data-test=timeline-words]').innerText()).resolves.toBe('+1 分');
    await expect(item('score', '规则 点击菜单').locator('[data-test=timeline-words]').innerText()).resolves.toBe('+1 分');
  });

  it('tags by hand, asks before removing (cancel keeps the tag), and the timeline names the operator for both', async () => {
    // The operator comes a minute after the follower's messages (the test clock stands still otherwise).
    stack.clock.advance(60_000);
    await page.click('[data-test=contact-tag-pick]');
    await page.locator('.el-select-dropdown__item:visible', { hasText: '兴趣/咖啡' }).first().click();
    await page.keyboard.press('Escape');
    await page.click('[data-test=contact-tag-add]');
    const added = item('tag_change', '兴趣/咖啡');
    await added.waitFor();
    await expect(added.locator('[data-test=timeline-label]').innerText()).resolves.toBe('添加标签');
    await expect(added.locator('[data-test=timeline-actor]').innerText()).resolves.toBe(`操作人：${OPERATOR_NAME}`);
    await expect(added.innerText()).resolves.toContain('手动');

    // Closing the tag asks first; cancelling keeps it.
    const coffee = page.locator('[data-test=contact-tags] [data-tag="咖啡"]');
    await coffee.locator('.el-tag__close').click();
    const dialog = page.locator('.el-message-box');
    await dialog.waitFor();
    await expect(dialog.innerText()).resolves.toContain('兴趣/咖啡');
    await shot('remove-tag-confirm');
    await dialog.locator('button', { hasText: '取消' }).click();
    await dialog.waitFor({ state: 'hidden' });
    expect(await tagNames()).toContain('咖啡');
    await expect(coffee.count()).resolves.toBe(1);

    await coffee.locator('.el-tag__close').click();
    await dialog.waitFor();
    stack.clock.advance(60_000);
    await dialog.locator('button', { hasText: '移除' }).click();
    await coffee.waitFor({ state: 'detached' });
    expect(await tagNames()).not.toContain('咖啡');
    const removed = page.locator('[data-test=timeline-item][data-kind=tag_change]', { hasText: '移除标签' });
    await removed.waitFor();
    await expect(removed.innerText()).resolves.toContain('兴趣/咖啡');
    await expect(removed.locator('[data-test=timeline-actor]').innerText()).resolves.toBe(`操作人：${OPERATOR_NAME}`);
    // Newest first: the removal is the top entry.
    await expect(page.locator('[data-test=timeline-item]').first().innerText()).resolves.toContain('移除标签');
    await removed.scrollIntoViewIfNeeded();
    await shot('tag-removed');
  });

  it('draws icons as SVG: no emoji on the contact page or the contact list', async () => {
    await expect(page.locator('[data-test=timeline-item] svg').count()).resolves.toBeGreaterThan(5);
    expect(await bodyText()).not.toMatch(EMOJI);
    await page.goto(url('/contacts'));
    await page.locator('[data-test=contacts-csv]').waitFor();
    await expect(page.locator('[data-test=contacts-csv] svg').count()).resolves.toBe(1);
    expect(await bodyText()).not.toMatch(EMOJI);
  });
});
