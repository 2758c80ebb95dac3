import http from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { SMS_SANDBOX_CREDENTIALS } from '../../../config/sms.config';
import { ManualClock } from '../../../server/adapters/clock';
import { PlatformTransportError } from '../../../server/adapters/platform-error';
import { createSandboxPlatform, startSandboxServer, type SandboxPlatform } from '../../../server/adapters/sandbox/sandbox-platform';
import { SmsClient, SmsRefusedError } from '../../../server/adapters/sms.client';
import { sandboxAccounts } from './adapter-fixtures';

interface Captured {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: Buffer;
}

/**
 * Tencent Cloud SMS against the sandbox: the official SDK's own signed bytes are checked as the
 * platform checks them (TC3-HMAC-SHA256), and the sandbox keeps the per-number limits.
 */
describe('SMS client and sandbox', () => {
  const s = SMS_SANDBOX_CREDENTIALS;
  let platform: SandboxPlatform;
  let server: { url: string; close(): Promise<void> };
  let clock: ManualClock;
  let signatureClock: ManualClock;

  beforeEach(async () => {
    clock = new ManualClock(new Date());
    signatureClock = new ManualClock(new Date());
    platform = createSandboxPlatform({ ...sandboxAccounts(), clock, signatureClock });
    server = await startSandboxServer(platform);
  });
  const clients: SmsClient[] = [];
  afterEach(async () => {
    for (const client of clients.splice(0)) client.close();
    await server.close();
  });

  const endpointOf = (url: string) => url.replace('127.0.0.1', 'sms.localhost') + '/sandbox/sms';
  const clientFor = (url: string, over: Partial<ConstructorParameters<typeof SmsClient>[0]> = {}) => {
    const client = new SmsClient({ ...s, region: 'ap-guangzhou', endpoint: endpointOf(url), timeoutMs: 2000, ...over });
    clients.push(client);
    return client;
  };
  const send = (client: SmsClient, phone = '+8613800000001') =>
    client.sendSms({ phone, templateId: '1400001', params: ['123456'], sessionContext: 'outbox:1' });

  /** The SDK's request as it left, caught by a server that answers like the platform. */
  async function captureSdkRequest(): Promise<Captured> {
    let captured: Captured | null = null;
    const catcher = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        captured = {
          method: req.method ?? '',
          path: req.url ?? '',
          headers: Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(',') : (v ?? '')])),
          body: Buffer.concat(chunks),
        };
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ Response: { SendStatusSet: [{ Code: 'Ok', SerialNo: 'x', Fee: 1 }], RequestId: 'r' } }));
      });
    });
    await new Promise<void>((resolve) => catcher.listen(0, '127.0.0.1', resolve));
    try {
      await send(clientFor(`http://127.0.0.1:${(catcher.address() as AddressInfo).port}`));
    } finally {
      await new Promise<void>((resolve) => catcher.close(() => resolve()));
    }
    if (!captured) throw new Error('nothing captured');
    return captured;
  }

  const replay = (c: Captured, body: Buffer = c.body) => {
    let r = request(platform.app.callback()).post(c.path);
    for (const [name, value] of Object.entries(c.headers)) if (name !== 'content-length' && name !== 'connection') r = r.set(name, value);
    // As a string: superagent would serialise a Buffer as JSON of its bytes.
    return r.send(body.toString('utf8'));
  };

  describe('signature (TC3-HMAC-SHA256) on the SDK’s real bytes', () => {
    it('accepts the request as the SDK signed it', async () => {
      const c = await captureSdkRequest();
      expect(c.headers.authorization).toMatch(
        /^TC3-HMAC-SHA256 Credential=AKID\w+\/\d{4}-\d{2}-\d{2}\/sms\/tc3_request, SignedHeaders=content-type;host, Signature=[0-9a-f]{64}$/,
      );
      expect(c.headers['x-tc-action']).toBe('SendSms');
      const answer = await replay(c);
      expect(answer.body).toMatchObject({
        Response: { SendStatusSet: [{ Code: 'Ok', PhoneNumber: '+8613800000001', SessionContext: 'outbox:1' }] },
      });
      expect(platform.sms.accepted).toHaveLength(1);
    });

    it('refuses a body changed after signing with AuthFailure.SignatureFailure, and sends nothing', async () => {
      const c = await captureSdkRequest();
      const tampered = Buffer.from(c.body.toString('utf8').replace('+8613800000001', '+8613800000002'));
      const answer = await replay(c, tampered);
      expect(answer.body).toMatchObject({
        Response: { Error: { Code: 'AuthFailure.SignatureFailure' }, RequestId: expect.any(String) as string },
      });
      expect(platform.sms.accepted).toHaveLength(0);
    });

    it('refuses a request more than 5 minutes old with AuthFailure.SignatureExpire', async () => {
      const c = await captureSdkRequest();
      signatureClock.advance(301_000);
      expect((await replay(c)).body).toMatchObject({ Response: { Error: { Code: 'AuthFailure.SignatureExpire' } } });
      signatureClock.advance(-2_000);
      expect((await replay(c)).body).toMatchObject({ Response: { SendStatusSet: [{ Code: 'Ok' }] } });
    });

    it('surfaces a wrong SecretKey as a refusal the driver can name', async () => {
      const error = await send(clientFor(server.url, { secretKey: 'not-the-key' })).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SmsRefusedError);
      expect(error).toMatchObject({ code: 'AuthFailure.SignatureFailure', scope: 'request' });
      expect(String((error as Error).message)).not.toContain('not-the-key');
    });
  });

  describe('SendSms through the SDK', () => {
    it('returns the SerialNo and records the message once', async () => {
      const result = await send(clientFor(server.url));
      expect(result.serialNo).toMatch(/sandbox/);
      expect(platform.sms.accepted).toEqual([
        expect.objectContaining({ phone: '+8613800000001', templateId: '1400001', params: ['123456'], serialNo: result.serialNo }),
      ]);
    });

    it('keeps the per-number limits: 1 per 30 s, 5 per hour, 10 per natural day', async () => {
      const client = clientFor(server.url);
      clock.set(new Date('2026-12-07T01:00:00Z')); // 09:00 in Beijing
      await send(client);
      await expect(send(client)).rejects.toMatchObject({ code: 'LimitExceeded.PhoneNumberThirtySecondLimit', scope: 'number' });
      for (let i = 0; i < 4; i += 1) {
        clock.advance(31_000);
        await send(client);
      }
      clock.advance(31_000);
      await expect(send(client)).rejects.toMatchObject({ code: 'LimitExceeded.PhoneNumberOneHourLimit' });
      clock.advance(3_600_000);
      for (let i = 0; i < 5; i += 1) {
        clock.advance(31_000);
        await send(client);
      }
      clock.advance(3_600_000);
      await expect(send(client)).rejects.toMatchObject({ code: 'LimitExceeded.PhoneNumberDailyLimit' });
      await send(client, '+8613800000002');
      clock.set(new Date('2026-12-07T16:00:01Z')); // the next day in Beijing
      await send(client);
      expect(platform.sms.accepted).toHaveLength(12);
    });

    it('names the refusals: wrong number, blacklist, template, balance', async () => {
      const client = clientFor(server.url);
      await expect(send(client, '+861234')).rejects.toMatchObject({ code: 'InvalidParameterValue.IncorrectPhoneNumber' });
      platform.sms.blacklist.add('+8613800000009');
      await expect(send(client, '+8613800000009')).rejects.toMatchObject({ code: 'FailedOperation.PhoneNumberInBlacklist' });
      await expect(client.sendSms({ phone: '+8613800000001', templateId: '999', params: [], sessionContext: '' })).rejects.toMatchObject({
        code: 'FailedOperation.TemplateIncorrectOrUnapproved',
        scope: 'request',
      });
      platform.sms.balance = 0;
      await expect(send(client)).rejects.toMatchObject({ code: 'FailedOperation.InsufficientBalanceInSmsPackage' });
      expect(platform.sms.accepted).toHaveLength(0);
    });

    it('times out as a transport failure after the sandbox took the message (its outcome is not known)', async () => {
      platform.state.delayNext('sms/SendSms', 700);
      const error = await send(clientFor(server.url, { timeoutMs: 300 })).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PlatformTransportError);
      expect(error).toMatchObject({ failure: 'timeout' });
      expect(platform.sms.accepted).toHaveLength(1);
    });

    it('reports a refused connection as refused before sending', async () => {
      const url = server.url;
      await server.close();
      const error = await send(clientFor(url)).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PlatformTransportError);
      expect((error as PlatformTransportError).refusedBeforeSending).toBe(true);
      server = await startSandboxServer(platform);
    });
  });
});
