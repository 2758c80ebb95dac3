import http from 'node:http';
import { ManualClock } from '../../../server/adapters/clock';
import { createSandboxPlatform, startSandboxServer, type SandboxPlatform } from '../../../server/adapters/sandbox/sandbox-platform';
import { createSandboxPlayer, type SandboxPlayer } from '../../../server/adapters/sandbox/sandbox-player';
import { runSandboxCli } from '../../../server/adapters/sandbox/sandbox.cli';
import { MessageCrypto } from '../../../server/wechat/message-crypto';
import { parseOfficialAccountMessage } from '../../../server/wechat/official-account-message';
import { verifySha1Signature } from '../../../server/wechat/signature';
import { parseWecomEvent } from '../../../server/wechat/wecom-event';
import { parseXmlMessage } from '../../../server/wechat/xml';
import { readEncryptedEnvelope } from '../../../server/wechat/passive-reply';
import { sandboxAccounts } from './adapter-fixtures';

interface Received {
  path: string;
  query: URLSearchParams;
  raw: string;
  /** The decrypted XML, after the signatures were checked as Flywheel checks them. */
  plain: string;
}

/**
 * A stand-in for Flywheel's callback endpoints: it verifies both signatures and decrypts with the
 * protocol layer, so the test proves the player speaks the platform's protocol, not its own.
 */
async function startReceiver(accounts: ReturnType<typeof sandboxAccounts>) {
  const received: Received[] = [];
  const oa = new MessageCrypto({
    token: accounts.officialAccount.token,
    encodingAesKey: accounts.officialAccount.aesKey,
    receiveId: accounts.officialAccount.appId,
  });
  const wecom = new MessageCrypto({ token: accounts.wecom.token, encodingAesKey: accounts.wecom.aesKey, receiveId: accounts.wecom.corpId });
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const raw = Buffer.concat(chunks).toString('utf8');
      const q = url.searchParams;
      const timestamp = q.get('timestamp') ?? '';
      const nonce = q.get('nonce') ?? '';
      try {
        const encrypted = readEncryptedEnvelope(parseXmlMessage(raw));
        const crypto = url.pathname === '/wechat/callback' ? oa : wecom;
        if (url.pathname === '/wechat/callback') {
          if (q.get('encrypt_type') !== 'aes') throw new Error('not safe mode');
          if (!verifySha1Signature(q.get('signature') ?? '', [accounts.officialAccount.token, timestamp, nonce]))
            throw new Error('bad signature');
        }
        if (!crypto.verify(q.get('msg_signature') ?? '', timestamp, nonce, encrypted)) throw new Error('bad msg_signature');
        received.push({ path: url.pathname, query: q, raw, plain: crypto.decrypt(encrypted) });
        res.writeHead(200, { 'Content-Type': 'text/plain' }).end('success');
      } catch (error) {
        res.writeHead(403).end(error instanceof Error ? error.message : 'refused');
      }
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

describe('sandbox player', () => {
  const accounts = sandboxAccounts();
  let clock: ManualClock;
  let platform: SandboxPlatform;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let player: SandboxPlayer;

  beforeAll(async () => {
    receiver = await startReceiver(accounts);
  });
  afterAll(async () => {
    await receiver.close();
  });
  beforeEach(() => {
    receiver.received.length = 0;
    clock = new ManualClock();
    platform = createSandboxPlatform({ ...accounts, clock, callbackBaseUrl: receiver.url });
    const built = platform.player();
    if (!built) throw new Error('the platform should have built its player');
    player = built;
  });

  const lastOfficialAccountMessage = () => parseOfficialAccountMessage(parseXmlMessage(receiver.received.at(-1)?.plain ?? ''));
  const lastWecomEvent = () => parseWecomEvent(parseXmlMessage(receiver.received.at(-1)?.plain ?? ''));

  it('plays a subscribe through a QR scene in safe mode, after creating the follower', async () => {
    const result = await player.subscribe({ scene: 'expo2026' });
    expect(result).toMatchObject({ status: 200, body: 'success' });
    const follower = platform.state.followers.get(result.openid);
    expect(follower).toMatchObject({ subscribed: true, qrSceneStr: 'expo2026', subscribeScene: 'ADD_SCENE_QR_CODE' });
    expect(follower?.unionid).toMatch(/^o/);

    const got = receiver.received[0];
    expect(got?.query.get('openid')).toBe(result.openid);
    expect(got?.plain).toBe(result.xml);
    expect(got?.raw).toContain(`<ToUserName><![CDATA[${platform.state.officialAccount.originalId}]]></ToUserName>`);
    expect(lastOfficialAccountMessage()).toMatchObject({
      kind: 'event.subscribe',
      fromUserName: result.openid,
      toUserName: platform.state.officialAccount.originalId,
      createTime: Math.floor(clock.now().getTime() / 1000),
      eventKey: 'qrscene_expo2026',
      scene: 'expo2026',
    });
  });

  it('plays text, click, scan and unsubscribe for a follower', async () => {
    const { openid } = await player.subscribe();
    await player.sendText({ openid, content: '你好 ]]> <xml>' });
    expect(lastOfficialAccountMessage()).toMatchObject({
      kind: 'text',
      content: '你好 ]]> <xml>',
      msgId: expect.stringMatching(/^\d+$/) as string,
    });
    await player.clickMenu({ openid, key: 'MENU_EXPO' });
    expect(lastOfficialAccountMessage()).toMatchObject({ kind: 'event.click', eventKey: 'MENU_EXPO' });
    await player.scan({ openid, scene: 'booth-12' });
    expect(lastOfficialAccountMessage()).toMatchObject({ kind: 'event.scan', scene: 'booth-12' });
    await player.unsubscribe({ openid });
    expect(lastOfficialAccountMessage()).toMatchObject({ kind: 'event.unsubscribe' });
    expect(platform.state.followers.get(openid)?.subscribed).toBe(false);
  });

  it('replays the same request byte for byte, as WeChat retries', async () => {
    const { openid } = await player.subscribe();
    const first = await player.sendText({ openid, content: 'hello', msgId: '1234567890123456' });
    clock.advance(5000);
    await player.replay(first);
    await player.replay(first.request);
    expect(receiver.received).toHaveLength(4);
    const deliveries = receiver.received.slice(1);
    expect(new Set(deliveries.map((r) => r.raw)).size).toBe(1);
    expect(new Set(deliveries.map((r) => r.query.toString())).size).toBe(1);
    expect(lastOfficialAccountMessage()).toMatchObject({ kind: 'text', msgId: '1234567890123456' });
  });

  it('plays add_external_contact with State after seeding the contact', async () => {
    const result = await player.addExternalContact({ userId: 'zhangsan', state: 'expo2026', unionid: 'oUNION000000000000000000000z' });
    expect(result.status).toBe(200);
    expect(platform.state.externalContacts.get(result.externalUserId)).toMatchObject({
      unionid: 'oUNION000000000000000000000z',
      followUsers: [{ userId: 'zhangsan', state: 'expo2026' }],
    });
    const got = receiver.received[0];
    expect(got?.path).toBe('/wecom/callback');
    expect(got?.raw).toContain(`<AgentID><![CDATA[${accounts.wecom.agentId}]]></AgentID>`);
    expect(lastWecomEvent()).toMatchObject({
      kind: 'change_external_contact',
      changeType: 'add_external_contact',
      fromUserName: 'sys',
      toUserName: accounts.wecom.corpId,
      userId: 'zhangsan',
      externalUserId: result.externalUserId,
      state: 'expo2026',
      welcomeCode: expect.any(String) as string,
    });
  });

  it('plays edit_external_contact after changing the tags in the platform, and change_external_tag', async () => {
    const { externalUserId } = await player.addExternalContact({ userId: 'zhangsan' });
    const { created } = platform.state.addCorpTags({ groupName: '展会', tagNames: ['expo2026'] });
    const tagId = created[0]?.id ?? '';
    await player.editExternalContactTags({ userId: 'zhangsan', externalUserId, addTagIds: [tagId] });
    expect(platform.state.externalContacts.get(externalUserId)?.followUsers[0]?.tagIds).toEqual([tagId]);
    expect(lastWecomEvent()).toMatchObject({ kind: 'change_external_contact', changeType: 'edit_external_contact', externalUserId });

    await player.changeExternalTag({ changeType: 'create', tagIds: [tagId, 'etOTHER'] });
    expect(lastWecomEvent()).toMatchObject({
      kind: 'change_external_tag',
      changeType: 'create',
      tagType: 'tag',
      tagId: [tagId, 'etOTHER'],
    });
  });

  it('can be attached after creation', async () => {
    const bare = createSandboxPlatform({ ...accounts, clock });
    expect(bare.player()).toBeNull();
    bare.attachPlayer(
      createSandboxPlayer({
        callbackBaseUrl: receiver.url,
        officialAccount: accounts.officialAccount,
        wecom: accounts.wecom,
        platform: bare.state,
        clock,
      }),
    );
    expect((await bare.player()?.subscribe())?.status).toBe(200);
  });

  describe('over HTTP and from the CLI', () => {
    let sandbox: { url: string; close(): Promise<void> };
    beforeEach(async () => {
      sandbox = await startSandboxServer(platform);
    });
    afterEach(async () => {
      await sandbox.close();
    });

    const runCli = async (argv: string[], env: NodeJS.ProcessEnv = { PUBLIC_BASE_URL: sandbox.url }) => {
      const out: string[] = [];
      const err: string[] = [];
      const code = await runSandboxCli({ argv, env, write: (l) => out.push(l), writeError: (l) => err.push(l) });
      return { code, out: out.join('\n'), err: err.join('\n') };
    };

    it('POST /sandbox/actions subscribes, then acts as the latest follower', async () => {
      const post = (body: object) =>
        fetch(`${sandbox.url}/sandbox/actions`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify(body),
        });
      const subscribed = await post({ action: 'subscribe', scene: 'expo2026' });
      const answer = (await subscribed.json()) as { ok: boolean; status: number; openid: string };
      expect(answer).toMatchObject({ ok: true, status: 200, openid: expect.stringMatching(/^o/) as string });
      expect(await (await post({ action: 'text', content: 'hi' })).json()).toMatchObject({ ok: true, openid: answer.openid });
      const missing = await post({ action: 'click' });
      expect(missing.status).toBe(400);
      // The code and params are for the admin page's sentence (errors.sandbox_action_needs); the text for scripts.
      expect(await missing.json()).toMatchObject({
        ok: false,
        error: 'click needs key',
        code: 'sandbox_action_needs',
        params: { action: 'click', field: 'key' },
      });
      const noResult = await post({ action: 'menu_scan', key: 'checkin' });
      expect(noResult.status).toBe(400);
      expect(await noResult.json()).toMatchObject({ ok: false, error: 'menu_scan needs scanResult', code: 'sandbox_action_needs' });
      expect(await (await post({ action: 'no_such_action' })).json()).toMatchObject({ ok: false, code: 'sandbox_bad_action' });
    });

    it('npm run sandbox -- menu_scan --key K --result CODE scans with a menu button', async () => {
      expect((await runCli(['subscribe'])).code).toBe(0);
      const result = await runCli(['menu_scan', '--key', 'checkin', '--result', 'booth-42']);
      expect(result.code).toBe(0);
      expect(lastOfficialAccountMessage()).toMatchObject({
        kind: 'event.menu_scan',
        event: 'scancode_waitmsg',
        eventKey: 'checkin',
        scanType: 'qrcode',
        scanResult: 'booth-42',
        waitMsg: true,
      });
    });

    it('npm run sandbox -- subscribe --scene expo2026 prints one line', async () => {
      const result = await runCli(['subscribe', '--scene', 'expo2026']);
      expect(result.code).toBe(0);
      expect(result.out).toMatch(/^subscribe played → callback HTTP 200 \(openid o\S+, scene expo2026\)$/);
      expect(lastOfficialAccountMessage()).toMatchObject({ kind: 'event.subscribe', scene: 'expo2026' });

      const added = await runCli(['add-external-contact', '--user', 'lisi', '--state=booth7']);
      expect(added.code).toBe(0);
      expect(added.out).toContain('external_userid wm');
      expect(lastWecomEvent()).toMatchObject({ userId: 'lisi', state: 'booth7' });
    });

    it('says so when the server is not running', async () => {
      const closed = await startSandboxServer(createSandboxPlatform(accounts));
      await closed.close();
      const result = await runCli(['subscribe'], { PUBLIC_BASE_URL: closed.url });
      expect(result.code).toBe(1);
      expect(result.err).toContain(`Flywheel is not reachable at ${closed.url}`);
    });

    it('says so when the server is not in sandbox mode', async () => {
      const plain = http.createServer((_req, res) =>
        res.writeHead(404, { 'Content-Type': 'application/json' }).end('{"error":{"code":"not_found"}}'),
      );
      await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve));
      const address = plain.address();
      const port = address !== null && typeof address === 'object' ? address.port : 0;
      try {
        const result = await runCli(['subscribe'], { PORT: String(port), PUBLIC_BASE_URL: `http://127.0.0.1:${port}` });
        expect(result.code).toBe(1);
        expect(result.err).toContain('has no sandbox');
      } finally {
        plain.close();
      }
    });

    it('reports a usage error with exit code 2', async () => {
      expect((await runCli([])).code).toBe(2);
      const unknown = await runCli(['dance']);
      expect(unknown.code).toBe(2);
      expect(unknown.err).toContain('unknown action dance');
      expect((await runCli(['text', '--colour', 'red'])).err).toContain('unknown option --colour');
    });
  });
});
