import request from 'supertest';
import { CallbackSignature } from '../../../entities/callback-signature.entity';
import { Interaction } from '../../../entities/interaction.entity';
import { ReactionWork } from '../../../entities/reaction-work.entity';
import { describeEachDatabase, useSecondInstance } from '../../support/database';
import { startTestStack, type TestStack } from '../../support/test-stack';
import { officialAccountRequest, textMessage } from '../../support/wechat-requests';

/**
 * In plain mode the query's signature covers token, timestamp and nonce, never the body: a signed
 * URL seen once (a proxy log, a captured request) must not carry a second, different body while
 * its timestamp is fresh, on this instance or any other.
 */
describeEachDatabase('callbacks: the plain-mode replay guard', (db) => {
  const second = useSecondInstance(db);
  let stack: TestStack;
  let other: TestStack | undefined;
  beforeEach(async () => {
    stack = await startTestStack(db(), { WECHAT_MESSAGE_MODE: 'plain' });
  });
  afterEach(async () => {
    await other?.close();
    other = undefined;
    await stack.close();
  });
  const post = (s: TestStack, r: { url: string; body: string }) => request(s.app.callback()).post(r.url).type('text/xml').send(r.body);
  const m = () => db().dataSource.manager;
  // A text message's content is a string in its detail.
  const contents = async () => (await m().find(Interaction, { order: { id: 'ASC' } })).map((i) => i.detail.content as string);
  /** A signed request from WeChat, and the same URL with a body of the attacker's choosing. */
  function capturedUrl(): { original: { url: string; body: string }; forged: { url: string; body: string } } {
    const original = officialAccountRequest(stack.config, textMessage('o_victim', 'hello', '4001'), { mode: 'plain' });
    const forged = {
      url: original.url,
      body: officialAccountRequest(stack.config, textMessage('o_victim', '退款', '4002'), { mode: 'plain' }).body,
    };
    return { original, forged };
  }

  it('the same signature with another body: 401, and nothing of it stored', async () => {
    const { original, forged } = capturedUrl();
    expect((await post(stack, original)).status).toBe(200);
    const res = await post(stack, forged);
    expect(res.status).toBe(401);
    expect(res.text).toBe('signature already used');
    expect(await contents()).toEqual(['hello']);
    expect(await m().count(ReactionWork)).toBe(1);
  });

  it('the signature in other letter cases (the check ignores case) is still the same signature', async () => {
    const { original, forged } = capturedUrl();
    expect((await post(stack, original)).status).toBe(200);
    const upper = forged.url.replace(/signature=([0-9a-f]{40})/, (_, sig: string) => `signature=${sig.toUpperCase()}`);
    expect(upper).not.toBe(forged.url);
    expect((await post(stack, { ...forged, url: upper })).status).toBe(401);
    expect(await contents()).toEqual(['hello']);
  });

  it('an encrypted request claims its signature too: its URL without encrypt_type cannot carry a plaintext body', async () => {
    // Plain mode takes encrypted requests (the console switched to safe before the configuration).
    const encrypted = officialAccountRequest(stack.config, textMessage('o_victim', 'hello', '4003'));
    expect((await post(stack, encrypted)).status).toBe(200);
    const plainUrl = encrypted.url.replace(/&encrypt_type=aes&msg_signature=[0-9a-f]{40}/, '');
    expect(plainUrl).not.toBe(encrypted.url);
    const forged = officialAccountRequest(stack.config, textMessage('o_victim', '退款', '4004'), { mode: 'plain' }).body;
    const res = await post(stack, { url: plainUrl, body: forged });
    expect(res.status).toBe(401);
    expect(await contents()).toEqual(['hello']);
    // WeChat's retry of the encrypted request is still its own.
    expect((await post(stack, encrypted)).status).toBe(200);
  });

  it('a URL verification (GET) claims its signature: the same query cannot POST a body afterwards', async () => {
    const { original, forged } = capturedUrl();
    const query = original.url.slice(original.url.indexOf('?'));
    const verified = await request(stack.app.callback()).get(`/wechat/callback${query}&echostr=5838479218127813673`);
    expect(verified.status).toBe(200);
    expect(verified.text).toBe('5838479218127813673');
    expect((await post(stack, forged)).status).toBe(401);
    expect(await contents()).toEqual([]);
    // The console may send its check again.
    expect((await request(stack.app.callback()).get(`/wechat/callback${query}&echostr=5838479218127813673`)).status).toBe(200);
  });

  it("the same request again (WeChat's retry) is answered as the first and stored once", async () => {
    const { original } = capturedUrl();
    expect((await post(stack, original)).status).toBe(200);
    const retry = await post(stack, original);
    expect(retry.status).toBe(200);
    expect(retry.text).toBe('success');
    expect(await contents()).toEqual(['hello']);
  });

  it('another instance sees the claim: the forged body sent there is refused too', async () => {
    other = await startTestStack({ dataSource: second() }, { WECHAT_MESSAGE_MODE: 'plain' }, { holder: 'second-instance' });
    const { original, forged } = capturedUrl();
    expect((await post(stack, original)).status).toBe(200);
    expect((await post(other, forged)).status).toBe(401);
    expect((await post(other, original)).status).toBe(200);
    expect(await contents()).toEqual(['hello']);
  });

  it('first requests racing on two instances with different bodies: no 5xx, one body wins, it alone is stored', async () => {
    other = await startTestStack({ dataSource: second() }, { WECHAT_MESSAGE_MODE: 'plain' }, { holder: 'second-instance' });
    const { original } = capturedUrl();
    const bodies = ['a', 'b', 'c'].map(
      (content, i) => officialAccountRequest(stack.config, textMessage('o_race', content, String(4100 + i)), { mode: 'plain' }).body,
    );
    const attempts = [0, 1, 2, 3, 4, 5].map((i) => ({ s: i % 2 === 0 ? stack : (other as TestStack), body: bodies[i % 3] }));
    const results = await Promise.all(attempts.map(({ s, body }) => post(s, { url: original.url, body })));
    expect(results.map((r) => r.status).filter((status) => status !== 200 && status !== 401)).toEqual([]);
    const winners = new Set(attempts.filter((_, i) => results[i].status === 200).map((a) => a.body));
    expect(winners.size).toBe(1);
    const stored = await contents();
    expect(stored).toHaveLength(1);
    expect([...winners][0]).toContain(`<Content><![CDATA[${stored[0]}]]></Content>`);
    expect(await m().count(CallbackSignature)).toBe(1);
  });

  it('housekeeping forgets a claim once its timestamp has left the freshness window, not before', async () => {
    const { original } = capturedUrl();
    expect((await post(stack, original)).status).toBe(200);
    const housekeeping = stack.services.jobs.find((job) => job.name === 'housekeeping');
    if (!housekeeping) throw new Error('no housekeeping job');
    stack.clock.advance(250_000);
    await housekeeping.run();
    expect(await m().count(CallbackSignature)).toBe(1);
    // Past CALLBACK_MAX_AGE_S (300 s) the URL is refused as stale, so the claim is no longer needed.
    stack.clock.advance(60_000);
    expect((await post(stack, original)).status).toBe(401);
    await housekeeping.run();
    expect(await m().count(CallbackSignature)).toBe(0);
  });
});
