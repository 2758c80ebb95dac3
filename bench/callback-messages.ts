import { randomInt } from 'node:crypto';
import { MessageCrypto } from '../server/wechat/message-crypto';
import { computeSha1Signature } from '../server/wechat/signature';
import { buildXml } from '../server/wechat/xml';

/**
 * One ready-to-send request: the path (with its signed query string), the body (XML for a
 * callback). The optional fields serve other APIs (bench/mp.bench.ts): method (POST), headers
 * (`content-type: text/xml`), and the answer that counts as success (HTTP 200 with body `success`).
 */
export interface PreparedRequest {
  path: string;
  body: Buffer;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  /** The status that counts as success; the body is then not looked at. */
  okStatus?: number;
}

export interface OfficialAccountCredentials {
  appId: string;
  token: string;
  aesKey: string;
}

export interface BuildTextMessagesParams {
  credentials: OfficialAccountCredentials;
  count: number;
  /** Senders cycle over this many openids, so contacts are reused as on a real account. */
  openidCount: number;
  /** The account's original id (gh_...), the ToUserName of every message. */
  originalId: string;
}

/**
 * Official Account text messages in safe mode (`encrypt_type=aes`), each distinct (own MsgId,
 * nonce and random prefix) and signed the way WeChat signs them: `signature` over
 * [token, timestamp, nonce] and `msg_signature` over [token, timestamp, nonce, Encrypt].
 * Built before the clock starts: encrypting is the sender's cost, not the server's.
 * @link https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Message_encryption_and_decryption_instructions.html
 */
export function buildEncryptedTextMessages(params: BuildTextMessagesParams): PreparedRequest[] {
  const { credentials, count, openidCount, originalId } = params;
  const seal = createSealer(credentials, originalId);
  const createTime = Math.floor(Date.now() / 1000);
  // MsgIds unique across runs too, and below 2^53 so buildXml can write them as bare numbers.
  const firstMsgId = Date.now() * 1000;
  const out: PreparedRequest[] = new Array<PreparedRequest>(count);
  for (let i = 0; i < count; i += 1) {
    const openid = `oBench${String(i % openidCount).padStart(22, '0')}`;
    const inner = buildXml({
      ToUserName: originalId,
      FromUserName: openid,
      CreateTime: createTime,
      MsgType: 'text',
      Content: `benchmark message ${i}`,
      MsgId: firstMsgId + i,
    });
    out[i] = seal(openid, createTime, inner);
  }
  return out;
}

export interface BuildSubscribeEventsParams {
  credentials: OfficialAccountCredentials;
  /** One follower each: distinct openids, none of which the account has seen before. */
  count: number;
  originalId: string;
  /** The QR code's scene, as at an exhibition stand: EventKey `qrscene_<scene>`. */
  scene: string;
  openidPrefix: string;
}

/**
 * A burst of new followers: `subscribe` events with a scene, each from an openid of its own, so
 * each one makes Flywheel create a contact (user-info fetch, source, tags, score) after the reply.
 * @link https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_event_pushes.html
 */
export function buildEncryptedSubscribeEvents(params: BuildSubscribeEventsParams): PreparedRequest[] {
  const { credentials, count, originalId, scene, openidPrefix } = params;
  const seal = createSealer(credentials, originalId);
  const createTime = Math.floor(Date.now() / 1000);
  const out: PreparedRequest[] = new Array<PreparedRequest>(count);
  for (let i = 0; i < count; i += 1) {
    const openid = burstOpenid(openidPrefix, i);
    const inner = buildXml({
      ToUserName: originalId,
      FromUserName: openid,
      CreateTime: createTime,
      MsgType: 'event',
      Event: 'subscribe',
      EventKey: `qrscene_${scene}`,
      Ticket: `gQBench${i}`,
    });
    out[i] = seal(openid, createTime, inner);
  }
  return out;
}

/** The i-th openid of a burst, in the platform's 28-character shape. */
export function burstOpenid(prefix: string, i: number): string {
  return `${prefix}${String(i).padStart(28 - prefix.length, '0')}`;
}

/** Encrypts one inner message and signs the request as WeChat does in safe mode. */
function createSealer(
  credentials: OfficialAccountCredentials,
  originalId: string,
): (openid: string, createTime: number, inner: string) => PreparedRequest {
  const crypto = new MessageCrypto({ token: credentials.token, encodingAesKey: credentials.aesKey, receiveId: credentials.appId });
  return (openid, createTime, inner) => {
    const timestamp = String(createTime);
    const encrypted = crypto.encrypt(inner);
    const nonce = String(randomInt(100_000_000, 2_000_000_000));
    const query = new URLSearchParams({
      signature: computeSha1Signature([credentials.token, timestamp, nonce]),
      timestamp,
      nonce,
      openid,
      encrypt_type: 'aes',
      msg_signature: crypto.sign(timestamp, nonce, encrypted),
    });
    return {
      path: `/wechat/callback?${query.toString()}`,
      body: Buffer.from(buildXml({ ToUserName: originalId, Encrypt: encrypted }), 'utf8'),
    };
  };
}
