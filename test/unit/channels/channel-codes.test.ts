import { ManualClock } from '../../../server/adapters/clock';
import { SandboxChannelCodes } from '../../../server/adapters/sandbox/sandbox-channel-codes';
import { SandboxErrcode } from '../../../server/adapters/sandbox/sandbox-errcode';
import { channelIdFromQuery, channelScene, parseChannelScene } from '../../../server/modules/channels/channel-scene';
import { mapOfficialAccountMessage, mapWecomEvent } from '../../../server/modules/interactions/interaction-mapping';
import { parseOfficialAccountMessage } from '../../../server/wechat/official-account-message';
import { parseWecomEvent } from '../../../server/wechat/wecom-event';
import { parseXmlMessage } from '../../../server/wechat/xml';

const PNG_MAGIC = Buffer.from([0x89, 0x50, 0x4e, 0x47]);

function errcodeOf(run: () => unknown): number | null {
  try {
    run();
    return null;
  } catch (error) {
    if (error instanceof SandboxErrcode) return error.errcode;
    throw error;
  }
}

async function asyncErrcodeOf(run: () => Promise<unknown>): Promise<number | null> {
  try {
    await run();
    return null;
  } catch (error) {
    if (error instanceof SandboxErrcode) return error.errcode;
    throw error;
  }
}

describe('channel scenes', () => {
  it('reads ch:<id> as sent, URL-encoded (a mini-program onLoad scene) or from ?ch=, and nothing else', () => {
    expect(channelScene(12)).toBe('ch:12');
    expect(parseChannelScene('ch:12')).toBe(12);
    expect(parseChannelScene('ch%3A12')).toBe(12);
    expect(channelIdFromQuery('12')).toBe(12);
    expect(channelIdFromQuery('ch:7')).toBe(7);
    for (const other of ['expo2026', 'ch:', 'ch:0', 'ch:012', 'ch:1x', 'ch:99999999999', '%E0%A4%A', '', null, 12])
      expect(parseChannelScene(other)).toBeNull();
  });

  it('fits every platform limit: state 30, mini-program scene 32, scene_str 64', () => {
    expect(channelScene(2_147_483_647).length).toBeLessThanOrEqual(30);
  });
});

describe('the sandbox channel codes', () => {
  const clock = new ManualClock(new Date('2026-12-07T08:00:00Z'));
  const codes = new SandboxChannelCodes(clock);

  it('makes temporary and permanent QR codes by scene_str, caps the time at 30 days, and draws them', async () => {
    const temporary = codes.createQrCode({
      expire_seconds: 9_999_999,
      action_name: 'QR_STR_SCENE',
      action_info: { scene: { scene_str: 'ch:1' } },
    });
    expect(temporary.expire_seconds).toBe(2_592_000);
    const permanent = codes.createQrCode({ action_name: 'QR_LIMIT_STR_SCENE', action_info: { scene: { scene_str: 'ch:2' } } });
    expect(permanent).not.toHaveProperty('expire_seconds');
    expect(
      errcodeOf(() => codes.createQrCode({ action_name: 'QR_LIMIT_STR_SCENE', action_info: { scene: { scene_str: 'x'.repeat(65) } } })),
    ).toBe(40097);
    expect((await codes.qrCodePng(permanent.ticket))?.subarray(0, 4)).toEqual(PNG_MAGIC);
    expect(codes.findQrCodeByScene('ch:1')?.ticket).toBe(temporary.ticket);
    expect(await codes.qrCodePng('unknown')).toBeNull();
  });

  it('refuses a contact way whose state is over 30 characters or whose single member is several', () => {
    expect(errcodeOf(() => codes.addContactWay({ type: 1, scene: 2, user: ['a'], state: 'x'.repeat(31) }, 'http://sb'))).toBe(40058);
    expect(errcodeOf(() => codes.addContactWay({ type: 1, scene: 2, user: ['a', 'b'], state: 'ch:3' }, 'http://sb'))).toBe(40031);
    expect(codes.addContactWay({ type: 2, scene: 2, user: ['a', 'b'], state: 'ch:3' }, 'http://sb').qr_code).toMatch(
      /^http:\/\/sb\/sandbox\/wecom\/contact_way_qr\//,
    );
  });

  it('takes a welcome code once within its 20 seconds: 41051 after', () => {
    const first = codes.issueWelcomeCode('wm1', 'rep');
    codes.sendWelcome({ welcome_code: first, text: { content: '你好' } });
    expect(errcodeOf(() => codes.sendWelcome({ welcome_code: first, text: { content: '你好' } }))).toBe(41051);
    const late = codes.issueWelcomeCode('wm2', 'rep');
    clock.advance(20_001);
    expect(errcodeOf(() => codes.sendWelcome({ welcome_code: late, text: { content: '你好' } }))).toBe(41051);
    expect(codes.welcomes.map((w) => w.externalUserId)).toEqual(['wm1']);
  });

  it('draws a mini-program code for a published page: 41030 for another page, 40169 for a scene over 32 characters', async () => {
    expect((await codes.unlimitedCodePng({ scene: 'ch:4', page: 'pages/index/index', check_path: true })).subarray(0, 4)).toEqual(
      PNG_MAGIC,
    );
    expect(await asyncErrcodeOf(() => codes.unlimitedCodePng({ scene: 'ch:4', page: 'pages/nope/index', check_path: true }))).toBe(41030);
    expect(await asyncErrcodeOf(() => codes.unlimitedCodePng({ scene: 'x'.repeat(33) }))).toBe(40169);
  });
});

describe('callbacks through a channel code', () => {
  const oaMessage = (fields: Record<string, string>) =>
    parseOfficialAccountMessage(
      parseXmlMessage(
        `<xml><ToUserName>gh_1</ToUserName><FromUserName>o1</FromUserName><CreateTime>1700000000</CreateTime><MsgType>event</MsgType>${Object.entries(
          fields,
        )
          .map(([k, v]) => `<${k}><![CDATA[${v}]]></${k}>`)
          .join('')}</xml>`,
      ),
    );

  it('put the channel id on the interaction for a subscribe, a SCAN and a WeCom add; other scenes carry none', () => {
    const subscribe = mapOfficialAccountMessage('wx1', oaMessage({ Event: 'subscribe', EventKey: 'qrscene_ch:12', Ticket: 't' }));
    expect(subscribe.detail).toEqual(expect.objectContaining({ scene: 'ch:12', channelId: 12 }));
    const scan = mapOfficialAccountMessage('wx1', oaMessage({ Event: 'SCAN', EventKey: 'ch:12', Ticket: 't' }));
    expect(scan.detail.channelId).toBe(12);
    const other = mapOfficialAccountMessage('wx1', oaMessage({ Event: 'subscribe', EventKey: 'qrscene_expo2026', Ticket: 't' }));
    expect(other.detail).not.toHaveProperty('channelId');
    const add = mapWecomEvent(
      'corp',
      parseWecomEvent(
        parseXmlMessage(
          '<xml><ToUserName>corp</ToUserName><FromUserName>sys</FromUserName><CreateTime>1700000000</CreateTime><MsgType>event</MsgType>' +
            '<Event>change_external_contact</Event><ChangeType>add_external_contact</ChangeType><UserID>rep</UserID>' +
            '<ExternalUserID>wm1</ExternalUserID><State>ch:7</State><WelcomeCode>W1</WelcomeCode></xml>',
        ),
      ),
    );
    expect(add.detail).toEqual(expect.objectContaining({ scene: 'ch:7', channelId: 7, welcomeCode: 'W1' }));
  });
});
