import { createCipheriv, randomBytes } from 'node:crypto';
import { MessageCrypto } from '../../../server/wechat/message-crypto';
import { parseXmlMessage } from '../../../server/wechat/xml';
import { OA_SAMPLE, WECOM_SAMPLE, catchProtocolCode } from './fixtures';

const wecom = new MessageCrypto({
  token: WECOM_SAMPLE.token,
  encodingAesKey: WECOM_SAMPLE.encodingAesKey,
  receiveId: WECOM_SAMPLE.corpId,
});
const officialAccount = new MessageCrypto({
  token: OA_SAMPLE.token,
  encodingAesKey: OA_SAMPLE.encodingAesKey,
  receiveId: OA_SAMPLE.appId,
});

/** Encrypts raw bytes the way WXBizMsgCrypt does, without its padding, to craft broken plaintexts. */
function encryptRaw(encodingAesKey: string, plain: Buffer): string {
  const key = Buffer.from(`${encodingAesKey}=`, 'base64');
  const cipher = createCipheriv('aes-256-cbc', key, key.subarray(0, 16));
  cipher.setAutoPadding(false);
  return Buffer.concat([cipher.update(plain), cipher.final()]).toString('base64');
}

/** random(16) + length(4) + msg + receiveId, with the given length field and trailing padding bytes. */
function craftPlain(p: { msg: string; receiveId: string; lengthField?: number; padding: number[] }): Buffer {
  const msg = Buffer.from(p.msg, 'utf8');
  const length = Buffer.alloc(4);
  length.writeUInt32BE(p.lengthField ?? msg.length, 0);
  return Buffer.concat([randomBytes(16), length, msg, Buffer.from(p.receiveId), Buffer.from(p.padding)]);
}

function padFor(bodyLength: number): number[] {
  const pad = 32 - (bodyLength % 32);
  return new Array<number>(pad).fill(pad);
}

describe('MessageCrypto with the WeCom sample values', () => {
  it('verifies and decrypts the sample URL-check echostr (receiveId = corpid)', () => {
    const { msgSignature, timestamp, nonce, echostr, plain } = WECOM_SAMPLE.verifyUrl;
    expect(wecom.verify(msgSignature, timestamp, nonce, echostr)).toBe(true);
    expect(wecom.decrypt(echostr)).toBe(plain);
  });

  it('verifies and decrypts the sample callback message', () => {
    const { msgSignature, timestamp, nonce, encrypt } = WECOM_SAMPLE.message;
    expect(wecom.verify(msgSignature, timestamp, nonce, encrypt)).toBe(true);
    expect(wecom.sign(timestamp, nonce, encrypt)).toBe(msgSignature);
    const fields = parseXmlMessage(wecom.decrypt(encrypt));
    expect(fields).toEqual({
      ToUserName: 'wx5823bf96d3bd56c7',
      FromUserName: 'mycreate',
      CreateTime: '1409659813',
      MsgType: 'text',
      Content: 'hello',
      MsgId: '4561255354251345929',
      AgentID: '218',
    });
  });

  it('rejects the sample signature for another timestamp or nonce', () => {
    const { msgSignature, timestamp, nonce, encrypt } = WECOM_SAMPLE.message;
    expect(wecom.verify(msgSignature, '1409659814', nonce, encrypt)).toBe(false);
    expect(wecom.verify(msgSignature, timestamp, '1', encrypt)).toBe(false);
    expect(wecom.verify(undefined, timestamp, nonce, encrypt)).toBe(false);
  });

  it('refuses the sample message when configured for another corpid', () => {
    const other = new MessageCrypto({
      token: WECOM_SAMPLE.token,
      encodingAesKey: WECOM_SAMPLE.encodingAesKey,
      receiveId: 'ww0000000000000000',
    });
    expect(catchProtocolCode(() => other.decrypt(WECOM_SAMPLE.message.encrypt))).toBe('receive_id_mismatch');
    expect(catchProtocolCode(() => other.decrypt(WECOM_SAMPLE.verifyUrl.echostr))).toBe('receive_id_mismatch');
  });
});

describe('MessageCrypto with the Official Account sample values', () => {
  const random = Buffer.from(OA_SAMPLE.randomStr, 'utf8');

  it('encrypts the sample reply with the sample random to the published ciphertext', () => {
    expect(officialAccount.encrypt(OA_SAMPLE.replyMsg, random)).toBe(OA_SAMPLE.afterAesEncrypt);
    expect(officialAccount.encrypt(OA_SAMPLE.replyMsg2, random)).toBe(OA_SAMPLE.afterAesEncrypt2);
  });

  it('decrypts the published ciphertexts back to the sample messages', () => {
    expect(officialAccount.decrypt(OA_SAMPLE.afterAesEncrypt)).toBe(OA_SAMPLE.replyMsg);
    expect(officialAccount.decrypt(OA_SAMPLE.afterAesEncrypt2)).toBe(OA_SAMPLE.replyMsg2);
  });
});

describe('MessageCrypto round trip', () => {
  it.each(['', 'a', '中文 and emoji 😀', 'x'.repeat(31), 'x'.repeat(32), 'y'.repeat(5000)])('encrypts and decrypts %#', (plain) => {
    const encrypted = officialAccount.encrypt(plain);
    expect(Buffer.from(encrypted, 'base64').length % 32).toBe(0);
    expect(officialAccount.decrypt(encrypted)).toBe(plain);
  });

  it('uses a fresh random prefix by default', () => {
    expect(officialAccount.encrypt('same')).not.toBe(officialAccount.encrypt('same'));
  });

  it('signs what it encrypts so that verify accepts it', () => {
    const encrypted = wecom.encrypt('<xml/>');
    const signature = wecom.sign('1700000000', 'n0nce', encrypted);
    expect(wecom.verify(signature, '1700000000', 'n0nce', encrypted)).toBe(true);
  });

  it('refuses a random prefix that is not 16 bytes', () => {
    expect(() => officialAccount.encrypt('x', Buffer.alloc(15))).toThrow('16 bytes');
  });
});

describe('MessageCrypto constructor', () => {
  it.each([
    ['42 characters', OA_SAMPLE.encodingAesKey.slice(0, 42)],
    ['44 characters', `${OA_SAMPLE.encodingAesKey}=`],
    ['a character outside base64', `${OA_SAMPLE.encodingAesKey.slice(0, 42)}-`],
    ['empty', ''],
  ])('rejects an EncodingAESKey of %s', (_label, encodingAesKey) => {
    expect(() => new MessageCrypto({ token: 't', encodingAesKey, receiveId: 'wx1' })).toThrow(/EncodingAESKey/);
  });
});

describe('MessageCrypto.decrypt failures', () => {
  it('never returns garbage for a wrong key', () => {
    const wrongKey = new MessageCrypto({
      token: WECOM_SAMPLE.token,
      encodingAesKey: OA_SAMPLE.encodingAesKey,
      receiveId: WECOM_SAMPLE.corpId,
    });
    const expected = ['bad_padding', 'decrypt_failed', 'receive_id_mismatch'];
    expect(expected).toContain(catchProtocolCode(() => wrongKey.decrypt(WECOM_SAMPLE.message.encrypt)));
    for (let i = 0; i < 50; i += 1) {
      const encrypted = wecom.encrypt(`message ${i}`);
      expect(expected).toContain(catchProtocolCode(() => wrongKey.decrypt(encrypted)));
    }
  });

  it('reports bad_padding when the last byte of the padding is tampered', () => {
    const data = Buffer.from(WECOM_SAMPLE.message.encrypt, 'base64');
    // In CBC, flipping a bit of the second-to-last block flips the same bit of the last plaintext byte.
    data[data.length - 17] = (data[data.length - 17] ?? 0) ^ 0x01;
    expect(catchProtocolCode(() => wecom.decrypt(data.toString('base64')))).toBe('bad_padding');
  });

  it('relies on msg_signature for integrity: tampering is caught by verify', () => {
    const { msgSignature, timestamp, nonce, encrypt } = WECOM_SAMPLE.message;
    const data = Buffer.from(encrypt, 'base64');
    data[3] = (data[3] ?? 0) ^ 0xff;
    expect(wecom.verify(msgSignature, timestamp, nonce, data.toString('base64'))).toBe(false);
  });

  it.each([
    ['a zero pad byte', [0]],
    ['a pad byte above 32', [33]],
    ['pad bytes that disagree', [7, 7, 7, 7, 7, 6, 7]],
  ])('reports bad_padding for %s', (_label, tail) => {
    const body = craftPlain({ msg: 'hello', receiveId: WECOM_SAMPLE.corpId, padding: [] });
    const filler = 32 - ((body.length + tail.length) % 32);
    // Filler bytes sit between receiveId and the tail; they are never valid padding for the tail.
    const plain = Buffer.concat([body, Buffer.alloc(filler === 32 ? 0 : filler, 0x41), Buffer.from(tail)]);
    expect(catchProtocolCode(() => wecom.decrypt(encryptRaw(WECOM_SAMPLE.encodingAesKey, plain)))).toBe('bad_padding');
  });

  it('reports bad_padding when a whole block of 33 would be needed', () => {
    const plain = Buffer.alloc(64, 64);
    expect(catchProtocolCode(() => wecom.decrypt(encryptRaw(WECOM_SAMPLE.encodingAesKey, plain)))).toBe('bad_padding');
  });

  it('reports decrypt_failed when the length field points past the data', () => {
    const draft = craftPlain({ msg: 'hello', receiveId: WECOM_SAMPLE.corpId, lengthField: 9999, padding: [] });
    const plain = Buffer.concat([draft, Buffer.from(padFor(draft.length))]);
    expect(catchProtocolCode(() => wecom.decrypt(encryptRaw(WECOM_SAMPLE.encodingAesKey, plain)))).toBe('decrypt_failed');
  });

  it('reports decrypt_failed when the plaintext is shorter than random + length', () => {
    const plain = Buffer.concat([randomBytes(8), Buffer.from(padFor(8))]);
    expect(catchProtocolCode(() => wecom.decrypt(encryptRaw(WECOM_SAMPLE.encodingAesKey, plain)))).toBe('decrypt_failed');
  });

  it('decodes a message that is not UTF-8 with U+FFFD and says so, instead of refusing it', () => {
    const random = randomBytes(16);
    const length = Buffer.from([0, 0, 0, 2]);
    const draft = Buffer.concat([random, length, Buffer.from([0xc3, 0x28]), Buffer.from(WECOM_SAMPLE.corpId)]);
    const plain = Buffer.concat([draft, Buffer.from(padFor(draft.length))]);
    const encrypted = encryptRaw(WECOM_SAMPLE.encodingAesKey, plain);
    expect(wecom.decryptText(encrypted)).toEqual({ text: '\uFFFD(', invalidUtf8: true });
    expect(wecom.decrypt(encrypted)).toBe('\uFFFD(');
    expect(wecom.decryptText(WECOM_SAMPLE.verifyUrl.echostr)).toEqual({ text: WECOM_SAMPLE.verifyUrl.plain, invalidUtf8: false });
  });

  it('encrypts bytes as given, so a round trip of bad UTF-8 keeps the flag', () => {
    const bytes = Buffer.concat([Buffer.from('<xml>'), Buffer.from([0xff, 0xfe]), Buffer.from('</xml>')]);
    expect(wecom.decryptText(wecom.encrypt(bytes))).toEqual({ text: '<xml>\uFFFD\uFFFD</xml>', invalidUtf8: true });
  });

  it('reports receive_id_mismatch for a message encrypted for another appid', () => {
    const draft = craftPlain({ msg: '<xml/>', receiveId: 'wxother', padding: [] });
    const plain = Buffer.concat([draft, Buffer.from(padFor(draft.length))]);
    expect(catchProtocolCode(() => wecom.decrypt(encryptRaw(WECOM_SAMPLE.encodingAesKey, plain)))).toBe('receive_id_mismatch');
  });

  it.each([
    ['empty input', ''],
    ['text that is not base64', 'not base64!'],
    ['base64 without padding', 'YWJj'.repeat(10).slice(0, 39)],
    ['one AES block (16 bytes), not a 32-byte multiple', Buffer.alloc(16).toString('base64')],
    ['an echostr whose + became a space in the query string', WECOM_SAMPLE.verifyUrl.echostr.replace(/\+/g, ' ')],
  ])('reports decrypt_failed for %s', (_label, encrypted) => {
    expect(catchProtocolCode(() => wecom.decrypt(encrypted))).toBe('decrypt_failed');
  });
});
