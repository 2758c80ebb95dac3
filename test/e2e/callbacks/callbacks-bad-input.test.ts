import http from 'node:http';
import request from 'supertest';
import { ReactionWork } from '../../../entities/reaction-work.entity';
import { Contact } from '../../../entities/contact.entity';
import { Interaction } from '../../../entities/interaction.entity';
import { CALLBACK_BODY_LIMIT } from '../../../server/http/callbacks.routes';
import { MessageCrypto } from '../../../server/wechat/message-crypto';
import { computeSha1Signature } from '../../../server/wechat/signature';
import { describeEachDatabase } from '../../support/database';
import { startTestStack, type TestStack } from '../../support/test-stack';
import { officialAccountRequest, textMessage, wecomRequest } from '../../support/wechat-requests';

describeEachDatabase('callbacks: what bad input gets', (db) => {
  let stack: TestStack;
  beforeEach(async () => {
    stack = await startTestStack(db());
  });
  afterEach(async () => {
    await stack.close();
  });

  const post = (r: { url: string; body: string }) => request(stack.app.callback()).post(r.url).type('text/xml').send(r.body);
  async function expectNothingStored(): Promise<void> {
    const m = db().dataSource.manager;
    expect(await m.count(Interaction)).toBe(0);
    expect(await m.count(ReactionWork)).toBe(0);
    expect(await m.count(Contact)).toBe(0);
  }

  it('a bad signature: 401, nothing stored', async () => {
    const r = officialAccountRequest(stack.config, textMessage('o_user', 'hi', '1001'));
    const res = await post({ ...r, url: r.url.replace(/signature=[0-9a-f]{40}/, `signature=${'0'.repeat(40)}`) });
    expect(res.status).toBe(401);
    expect(res.text).toBe('invalid signature');
    await expectNothingStored();
  });

  it('a bad msg_signature in safe mode: 401, nothing stored', async () => {
    const r = officialAccountRequest(stack.config, textMessage('o_user', 'hi', '1002'));
    const res = await post({ ...r, url: r.url.replace(/msg_signature=[0-9a-f]{40}/, `msg_signature=${'a'.repeat(40)}`) });
    expect(res.status).toBe(401);
    await expectNothingStored();
  });

  it('a timestamp older than CALLBACK_MAX_AGE_S (a replay): 401, nothing stored', async () => {
    const old = Math.floor(stack.clock.now().getTime() / 1000) - 301;
    const res = await post(officialAccountRequest(stack.config, textMessage('o_user', 'hi', '1003'), { timestamp: old }));
    expect(res.status).toBe(401);
    expect(res.text).toMatch(/timestamp/);
    await expectNothingStored();
  });

  // Signed as safe mode (the stack's default) with the body replaced: the outer XML is parsed
  // before msg_signature can be checked, so it must refuse what it cannot read.
  it('malformed XML with a valid signature: 400, nothing stored', async () => {
    const r = officialAccountRequest(stack.config, textMessage('o_user', 'hi', '1004'));
    const res = await post({ ...r, body: '<xml><ToUserName>gh</ToUserName><MsgType>text' });
    expect(res.status).toBe(400);
    expect(res.text).toBe('malformed xml');
    await expectNothingStored();
  });

  it('XML with an entity declaration (billion laughs): 400, nothing stored', async () => {
    const r = officialAccountRequest(stack.config, textMessage('o_user', 'hi', '1005'));
    const bomb =
      '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]><xml><Content>&b;</Content></xml>';
    const res = await post({ ...r, body: bomb });
    expect(res.status).toBe(400);
    await expectNothingStored();
  });

  it('plain mode: malformed XML and an entity declaration with a valid signature: 400, nothing stored', async () => {
    await stack.close();
    stack = await startTestStack(db(), { WECHAT_MESSAGE_MODE: 'plain' });
    for (const body of [
      '<xml><ToUserName>gh</ToUserName><MsgType>text',
      '<!DOCTYPE x [<!ENTITY a "a">]><xml><Content>&a;</Content></xml>',
    ]) {
      const r = officialAccountRequest(stack.config, textMessage('o_user', 'hi', '1009'), { mode: 'plain' });
      const res = await post({ ...r, body });
      expect(res.status).toBe(400);
    }
    await expectNothingStored();
  });

  it('WeCom: XML nested 9,000 deep (as deep as fits in 64 KiB), read before its signature can be checked: 400, nothing stored', async () => {
    const r = wecomRequest(stack.config, { ToUserName: stack.config.wecom.corpId });
    const deep = `<xml>${'<A>'.repeat(9_000)}${'</A>'.repeat(9_000)}</xml>`;
    const res = await post({ ...r, body: deep });
    expect(res.status).toBe(400);
    expect(res.text).toBe('malformed xml');
    await expectNothingStored();
  });

  it('a failed decrypt (encrypted with another key, signed correctly): 400, nothing stored', async () => {
    const { token, appId } = stack.config.officialAccount;
    const foreign = new MessageCrypto({ token, encodingAesKey: 'B'.repeat(43), receiveId: appId });
    const timestamp = String(Math.floor(Date.now() / 1000));
    const nonce = '12345';
    const encrypt = foreign.encrypt('<xml><MsgType>text</MsgType></xml>');
    const url = `/wechat/callback?signature=${computeSha1Signature([token, timestamp, nonce])}&timestamp=${timestamp}&nonce=${nonce}&encrypt_type=aes&msg_signature=${foreign.sign(timestamp, nonce, encrypt)}`;
    const res = await post({ url, body: `<xml><ToUserName>gh</ToUserName><Encrypt>${encrypt}</Encrypt></xml>` });
    expect(res.status).toBe(400);
    expect(res.text).toBe('decrypt failed');
    await expectNothingStored();
  });

  it('a body over 64 KiB with Content-Length: 413 before reading it, nothing stored', async () => {
    const r = officialAccountRequest(stack.config, textMessage('o_user', 'x'.repeat(CALLBACK_BODY_LIMIT + 10), '1006'), { mode: 'plain' });
    const res = await postOverHttp(stack.baseUrl, r, { chunked: false });
    expect(res.status).toBe(413);
    expect(res.headers.connection).toBe('close');
    await expectNothingStored();
  });

  it('a chunked body over 64 KiB: the client receives a 413 (not a reset), nothing stored', async () => {
    const r = officialAccountRequest(stack.config, textMessage('o_user', 'x'.repeat(4 * CALLBACK_BODY_LIMIT), '1007'), { mode: 'plain' });
    const res = await postOverHttp(stack.baseUrl, r, { chunked: true });
    expect(res.status).toBe(413);
    expect(res.headers.connection).toBe('close');
    expect(res.body).toBe('payload too large');
    await expectNothingStored();
  });

  it('a chunked body under the limit is read and stored as usual', async () => {
    const r = officialAccountRequest(stack.config, textMessage('o_user', 'hello in chunks', '1008'));
    const res = await postOverHttp(stack.baseUrl, r, { chunked: true });
    expect(res.status).toBe(200);
    expect(await db().dataSource.manager.count(Interaction)).toBe(1);
  });

  it('an unknown event type: stored as a generic interaction, 200 success', async () => {
    const r = officialAccountRequest(stack.config, {
      ToUserName: 'gh_sandbox',
      FromUserName: 'o_user',
      CreateTime: Math.floor(Date.now() / 1000),
      MsgType: 'event',
      Event: 'brand_new_event_2027',
      EventKey: 'k',
    });
    const res = await post(r);
    expect(res.status).toBe(200);
    expect(res.text).toBe('success');
    const rows = await db().dataSource.manager.find(Interaction);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ type: 'unknown', channel: 'oa', detail: { event: 'brand_new_event_2027' } });
  });

  it('WeCom: a bad msg_signature is 401 and a missing timestamp is 401, nothing stored', async () => {
    const event = {
      ToUserName: stack.config.wecom.corpId,
      FromUserName: 'sys',
      CreateTime: Math.floor(Date.now() / 1000),
      MsgType: 'event',
      Event: 'change_external_contact',
      ChangeType: 'del_follow_user',
      UserID: 'rep1',
      ExternalUserID: 'wm_1',
    };
    const r = wecomRequest(stack.config, event);
    const bad = await post({ ...r, url: r.url.replace(/msg_signature=[0-9a-f]{40}/, `msg_signature=${'b'.repeat(40)}`) });
    expect(bad.status).toBe(401);
    const noTimestamp = await post({ ...r, url: r.url.replace(/&timestamp=\d+/, '') });
    expect(noTimestamp.status).toBe(401);
    await expectNothingStored();
  });

  it('the database failing before the commit: 500 so that WeChat retries, and no stack trace', async () => {
    await db().dataSource.query('ALTER TABLE reaction_work RENAME TO reaction_work_gone');
    try {
      const res = await post(officialAccountRequest(stack.config, textMessage('o_user', 'hi', '1007')));
      expect(res.status).toBe(500);
      expect(res.text).not.toMatch(/at .*\.ts/);
      expect(await db().dataSource.manager.count(Interaction)).toBe(0);
    } finally {
      await db().dataSource.query('ALTER TABLE reaction_work_gone RENAME TO reaction_work');
    }
  });
});

/**
 * A real client on a real socket: supertest cannot show a connection reset. Chunked sends the
 * body in 8 KiB writes without a Content-Length, as a streaming client would.
 */
function postOverHttp(
  baseUrl: string,
  r: { url: string; body: string },
  opts: { chunked: boolean },
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  const payload = Buffer.from(r.body, 'utf8');
  return new Promise((resolve, reject) => {
    const headers: http.OutgoingHttpHeaders = { 'Content-Type': 'text/xml' };
    if (opts.chunked) headers['Transfer-Encoding'] = 'chunked';
    else headers['Content-Length'] = payload.length;
    const req = http.request(`${baseUrl}${r.url}`, { method: 'POST', headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    // Writes after the server has answered may fail (EPIPE); the answer is what the test checks.
    req.on('error', reject);
    if (!opts.chunked) {
      req.end(payload);
      return;
    }
    let offset = 0;
    const writeNext = (): void => {
      while (offset < payload.length) {
        const chunk = payload.subarray(offset, offset + 8 * 1024);
        offset += chunk.length;
        if (!req.write(chunk)) {
          req.once('drain', writeNext);
          return;
        }
      }
      req.end();
    };
    writeNext();
  });
}
