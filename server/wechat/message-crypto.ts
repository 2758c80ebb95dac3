import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { ProtocolError } from './protocol-error';
import { computeSha1Signature, verifySha1Signature } from './signature';
import { decodeUtf8Replacing, type DecodedText } from './utf8';

/** WeChat pads to 32-byte blocks (PKCS#7 with k = 32), not to AES's 16. */
const PAD_BLOCK_SIZE = 32;
const RANDOM_LENGTH = 16;
const LENGTH_FIELD_SIZE = 4;
const ENCODING_AES_KEY_PATTERN = /^[A-Za-z0-9+/]{43}$/;
const BASE64_PATTERN = /^[A-Za-z0-9+/]+={0,2}$/;

export interface MessageCryptoParams {
  token: string;
  encodingAesKey: string;
  /** Official Account: the appid; WeCom: the corpid (also for the GET echostr check). */
  receiveId: string;
}

/**
 * WXBizMsgCrypt: the message encryption shared by Official Account safe mode and WeCom callbacks.
 * AES-256-CBC, key = Base64_Decode(EncodingAESKey + "="), IV = first 16 bytes of the key;
 * plaintext = random(16) + msg_len(4, big-endian) + msg + receiveid, PKCS#7-padded to 32 bytes.
 * @link https://developer.work.weixin.qq.com/document/path/90968
 * @link https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Message_encryption_and_decryption_instructions.html
 */
export class MessageCrypto {
  private readonly token: string;
  private readonly receiveId: string;
  private readonly key: Buffer;
  private readonly iv: Buffer;

  constructor(params: MessageCryptoParams) {
    if (!ENCODING_AES_KEY_PATTERN.test(params.encodingAesKey)) {
      throw new Error('EncodingAESKey must be exactly 43 characters of [A-Za-z0-9+/]');
    }
    this.token = params.token;
    this.receiveId = params.receiveId;
    this.key = Buffer.from(`${params.encodingAesKey}=`, 'base64');
    this.iv = this.key.subarray(0, 16);
  }

  /** `plain` as text is encoded as UTF-8; as bytes it is encrypted as given (tests send bad UTF-8 this way). */
  encrypt(plain: string | Buffer, random: Buffer = randomBytes(RANDOM_LENGTH)): string {
    if (random.length !== RANDOM_LENGTH) {
      throw new Error(`random prefix must be ${RANDOM_LENGTH} bytes`);
    }
    const msg = typeof plain === 'string' ? Buffer.from(plain, 'utf8') : plain;
    const length = Buffer.alloc(LENGTH_FIELD_SIZE);
    length.writeUInt32BE(msg.length, 0);
    const body = Buffer.concat([random, length, msg, Buffer.from(this.receiveId, 'utf8')]);
    const padLength = PAD_BLOCK_SIZE - (body.length % PAD_BLOCK_SIZE);
    const padded = Buffer.concat([body, Buffer.alloc(padLength, padLength)]);
    const cipher = createCipheriv('aes-256-cbc', this.key, this.iv);
    cipher.setAutoPadding(false);
    return Buffer.concat([cipher.update(padded), cipher.final()]).toString('base64');
  }

  /** The decrypted message as text; invalid UTF-8 becomes U+FFFD (see decryptText for the flag). */
  decrypt(encrypted: string): string {
    return this.decryptText(encrypted).text;
  }

  /** The decrypted message, and whether its bytes were valid UTF-8 (decodeUtf8Replacing). */
  decryptText(encrypted: string): DecodedText {
    const plain = this.decryptBlocks(encrypted);
    const unpadded = removePadding(plain);
    if (unpadded.length < RANDOM_LENGTH + LENGTH_FIELD_SIZE) {
      throw new ProtocolError('decrypt_failed', 'decrypted message is too short');
    }
    const msgLength = unpadded.readUInt32BE(RANDOM_LENGTH);
    const msgStart = RANDOM_LENGTH + LENGTH_FIELD_SIZE;
    const msgEnd = msgStart + msgLength;
    if (msgEnd > unpadded.length) {
      throw new ProtocolError('decrypt_failed', 'message length field points past the data');
    }
    const receiveId = unpadded.subarray(msgEnd).toString('utf8');
    if (receiveId !== this.receiveId) {
      throw new ProtocolError('receive_id_mismatch', 'message was encrypted for another appid/corpid');
    }
    return decodeUtf8Replacing(unpadded.subarray(msgStart, msgEnd));
  }

  sign(timestamp: string, nonce: string, encrypted: string): string {
    return computeSha1Signature([this.token, timestamp, nonce, encrypted]);
  }

  verify(signature: string | undefined, timestamp: string, nonce: string, encrypted: string): boolean {
    return verifySha1Signature(signature, [this.token, timestamp, nonce, encrypted]);
  }

  private decryptBlocks(encrypted: string): Buffer {
    if (!BASE64_PATTERN.test(encrypted) || encrypted.length % 4 !== 0) {
      throw new ProtocolError('decrypt_failed', 'ciphertext is not base64');
    }
    const data = Buffer.from(encrypted, 'base64');
    if (data.length === 0 || data.length % PAD_BLOCK_SIZE !== 0) {
      throw new ProtocolError('decrypt_failed', 'ciphertext is not a whole number of 32-byte blocks');
    }
    try {
      const decipher = createDecipheriv('aes-256-cbc', this.key, this.iv);
      // Node's PKCS#7 check assumes 16-byte blocks; WeChat pads to 32, so the padding is checked below.
      decipher.setAutoPadding(false);
      return Buffer.concat([decipher.update(data), decipher.final()]);
    } catch {
      throw new ProtocolError('decrypt_failed', 'AES decryption failed');
    }
  }
}

function removePadding(plain: Buffer): Buffer {
  const padLength = plain[plain.length - 1] ?? 0;
  if (padLength < 1 || padLength > PAD_BLOCK_SIZE || padLength > plain.length) {
    throw new ProtocolError('bad_padding', 'invalid PKCS#7 padding length');
  }
  for (let i = plain.length - padLength; i < plain.length; i += 1) {
    if (plain[i] !== padLength) {
      throw new ProtocolError('bad_padding', 'inconsistent PKCS#7 padding bytes');
    }
  }
  return plain.subarray(0, plain.length - padLength);
}
