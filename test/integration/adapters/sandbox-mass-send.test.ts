import http from 'node:http';
import { ManualClock } from '../../../server/adapters/clock';
import { OfficialAccountClient } from '../../../server/adapters/official-account.client';
import { PlatformApiError } from '../../../server/adapters/platform-error';
import { unlimitedRateLimiter } from '../../../server/adapters/rate-limiter';
import { createSandboxPlatform, startSandboxServer, type SandboxPlatform } from '../../../server/adapters/sandbox/sandbox-platform';
import { SANDBOX_MASS_SENDER_OPENID } from '../../../server/adapters/sandbox/sandbox-player';
import { TokenStore } from '../../../server/adapters/token-store';
import { MessageCrypto } from '../../../server/wechat/message-crypto';
import { parseOfficialAccountMessage } from '../../../server/wechat/official-account-message';
import { readEncryptedEnvelope } from '../../../server/wechat/passive-reply';
import { parseXmlMessage } from '../../../server/wechat/xml';
import { createTestDatabase, type TestDatabase } from '../../support/database';
import { createRecordingLogger, sandboxAccounts } from './adapter-fixtures';

const HOUR_MS = 3_600_000;

/** Flywheel's Official Account callback as a stand-in: it keeps the decrypted XML of each push. */
async function startReceiver(crypto: MessageCrypto) {
  const received: string[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push(crypto.decrypt(readEncryptedEnvelope(parseXmlMessage(Buffer.concat(chunks).toString('utf8')))));
      res.writeHead(200, { 'Content-Type': 'text/plain' }).end('success');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('not listening');
  return {
    url: `http://127.0.0.1:${address.port}`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * The sandbox's message/mass/sendall through OfficialAccountClient.massSendAll: clientmsgid
 * refused when reused within 24 hours (45065 with the first msg_id), the filter and msgtype
 * checked, and MASSSENDJOBFINISH pushed to the callback afterwards.
 */
describe('sandbox mass/sendall', () => {
  const accounts = sandboxAccounts();
  const crypto = new MessageCrypto({
    token: accounts.officialAccount.token,
    encodingAesKey: accounts.officialAccount.aesKey,
    receiveId: accounts.officialAccount.appId,
  });
  let database: TestDatabase;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let platform: SandboxPlatform;
  let server: { url: string; close(): Promise<void> };
  let clock: ManualClock;
  let client: OfficialAccountClient;

  beforeAll(async () => {
    database = await createTestDatabase('sqlite');
    receiver = await startReceiver(crypto);
  });
  afterAll(async () => {
    await receiver.close();
    await database.destroy();
  });
  const start = async (massFinishDelayMs: number | null) => {
    await database.reset();
    receiver.received.length = 0;
    clock = new ManualClock();
    platform = createSandboxPlatform({ ...accounts, clock, callbackBaseUrl: receiver.url, massFinishDelayMs });
    server = await startSandboxServer(platform);
    client = new OfficialAccountClient({
      baseUrl: `${server.url}/sandbox/wechat`,
      appId: accounts.officialAccount.appId,
      secret: accounts.officialAccount.secret,
      tokenStore: new TokenStore({ dataSource: database.dataSource, clock, holder: 'test', pollMs: 20 }),
      rateLimiter: unlimitedRateLimiter,
      logger: createRecordingLogger().logger,
      timeoutMs: 2000,
    });
  };
  afterEach(async () => {
    await server.close();
  });

  const text = (clientmsgid?: string) => ({
    filter: { is_to_all: true },
    msgtype: 'text',
    text: { content: '双十二老客专享' },
    ...(clientmsgid === undefined ? {} : { clientmsgid }),
  });
  const errcodeOf = async (body: Record<string, unknown>) => {
    try {
      await client.massSendAll(body);
      return 0;
    } catch (error) {
      if (error instanceof PlatformApiError) return error.errcode;
      throw error;
    }
  };
  const finishes = async () => {
    const answer = await fetch(`${server.url}/sandbox/control/mass-finish`, { method: 'POST' });
    return (await answer.json()) as { ok: boolean; pushed: number; statuses: number[] };
  };

  it('the same clientmsgid twice: one mass send, the second answered 45065 with the first msg_id', async () => {
    await start(null);
    for (let i = 0; i < 3; i += 1) platform.state.addFollower({});
    const first = await client.massSendAll(text('broadcast:42'));
    expect(first.msgId).toMatch(/^\d+$/);
    expect(first).toEqual({ msgId: first.msgId, msgDataId: null, reused: false });
    const second = await client.massSendAll(text('broadcast:42'));
    expect(second).toEqual({ msgId: first.msgId, msgDataId: null, reused: true });
    expect(platform.state.messages.massSends).toHaveLength(1);
    expect(platform.state.messages.massSends[0].clientMsgId).toBe('broadcast:42');
    expect(platform.state.messages.massSends[0].openids).toHaveLength(3);
    expect(platform.state.callsTo('mass/sendall')).toHaveLength(2);
    // Another clientmsgid is another send; after 24 hours the first one may be used again.
    expect((await client.massSendAll(text('broadcast:43'))).reused).toBe(false);
    clock.advance(24 * HOUR_MS - 1);
    expect((await client.massSendAll(text('broadcast:42'))).reused).toBe(true);
    clock.advance(1);
    const again = await client.massSendAll(text('broadcast:42'));
    expect(again.reused).toBe(false);
    expect(again.msgId).not.toBe(first.msgId);
    expect(platform.state.messages.massSends).toHaveLength(3);
  });

  it('without a clientmsgid, the same audience and content within 24 hours is refused too (WeChat digests them)', async () => {
    await start(null);
    platform.state.addFollower({});
    const first = await client.massSendAll(text());
    expect(await client.massSendAll(text())).toEqual({ msgId: first.msgId, msgDataId: null, reused: true });
    expect((await client.massSendAll({ ...text(), text: { content: '另一条' } })).reused).toBe(false);
  });

  it('checks the filter, the msgtype and its content, and the clientmsgid length', async () => {
    await start(null);
    const tag = platform.state.createOaTag('老客');
    const tagged = platform.state.addFollower({});
    platform.state.addFollower({});
    platform.state.changeOaTagMembers('tag', tag.id, [tagged.openid]);
    expect(await errcodeOf({ msgtype: 'text', text: { content: 'x' } })).toBe(40035);
    expect(await errcodeOf({ filter: { is_to_all: 'yes' }, msgtype: 'text', text: { content: 'x' } })).toBe(40035);
    expect(await errcodeOf({ filter: { is_to_all: false }, msgtype: 'text', text: { content: 'x' } })).toBe(40035);
    expect(await errcodeOf({ filter: { is_to_all: false, tag_id: 999 }, msgtype: 'text', text: { content: 'x' } })).toBe(45159);
    expect(await errcodeOf({ filter: { is_to_all: true }, msgtype: 'news', news: {} })).toBe(40008);
    expect(await errcodeOf({ filter: { is_to_all: true }, msgtype: 'text', text: { content: '' } })).toBe(44004);
    expect(await errcodeOf({ filter: { is_to_all: true }, msgtype: 'mpnews', mpnews: {} })).toBe(40035);
    expect(await errcodeOf({ ...text(), clientmsgid: 'x'.repeat(65) })).toBe(45067);
    expect(platform.state.messages.massSends).toHaveLength(0);

    // By tag: only its followers; mpnews answers msg_data_id too.
    const sent = await client.massSendAll({
      filter: { is_to_all: false, tag_id: tag.id },
      msgtype: 'mpnews',
      mpnews: { media_id: 'MEDIA_1' },
      send_ignore_reprint: 0,
      clientmsgid: 'b:1',
    });
    expect(sent.msgId).toMatch(/^\d+$/);
    expect(sent.msgDataId).toMatch(/^\d+$/);
    expect(sent.reused).toBe(false);
    expect(sent.msgDataId).not.toBe(sent.msgId);
    expect(platform.state.messages.massSends[0].openids).toEqual([tagged.openid]);
  });

  it('pushes MASSSENDJOBFINISH to the callback after the send, once', async () => {
    await start(null);
    platform.state.addFollower({});
    platform.state.addFollower({});
    const sent = await client.massSendAll(text('b:finish'));
    expect(receiver.received).toEqual([]);
    expect(await finishes()).toEqual({ ok: true, pushed: 1, statuses: [200] });
    expect(await finishes()).toEqual({ ok: true, pushed: 0, statuses: [] });
    expect(receiver.received).toHaveLength(1);
    expect(parseOfficialAccountMessage(parseXmlMessage(receiver.received[0]))).toMatchObject({
      kind: 'event.mass_send_job_finish',
      fromUserName: SANDBOX_MASS_SENDER_OPENID,
      msgId: sent.msgId,
      status: 'send success',
      totalCount: 2,
      filterCount: 2,
      sentCount: 2,
      errorCount: 0,
    });
  });

  it('pushes it on its own a moment later by default', async () => {
    await start(20);
    platform.state.addFollower({});
    const sent = await client.massSendAll(text('b:later'));
    for (let i = 0; i < 200 && receiver.received.length === 0; i += 1) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(receiver.received).toHaveLength(1);
    expect(parseOfficialAccountMessage(parseXmlMessage(receiver.received[0]))).toMatchObject({ msgId: sent.msgId });
  });
});
