import { MessageCrypto } from '../../server/wechat/message-crypto';
import { computeSha1Signature } from '../../server/wechat/signature';
import { buildXml, type XmlBuildFields } from '../../server/wechat/xml';

/** Builds callback requests byte for byte as WeChat sends them, so tests can also tamper with them. */
/** The keys a request is signed with: the stack's config, or any others (a test's own, the sandbox's). */
export interface OfficialAccountKeys {
  officialAccount: { appId: string; token: string; aesKey: string };
}
export interface WecomKeys {
  wecom: { corpId: string; token: string; aesKey: string };
}

export function officialAccountRequest(
  config: OfficialAccountKeys,
  fields: XmlBuildFields,
  /** aes: safe mode (only the Encrypt envelope); compatible: the plaintext fields and Encrypt; plain: plaintext. */
  opts: { mode?: 'plain' | 'aes' | 'compatible'; timestamp?: number; nonce?: string } = {},
): { url: string; body: string } {
  const { appId, token, aesKey } = config.officialAccount;
  const timestamp = String(opts.timestamp ?? Math.floor(Date.now() / 1000));
  const nonce = opts.nonce ?? String(Math.floor(Math.random() * 1e9));
  const signature = computeSha1Signature([token, timestamp, nonce]);
  const xml = buildXml(fields);
  if ((opts.mode ?? 'aes') === 'plain') {
    return { url: `/wechat/callback?signature=${signature}&timestamp=${timestamp}&nonce=${nonce}&openid=${openidOf(fields)}`, body: xml };
  }
  const crypto = new MessageCrypto({ token, encodingAesKey: aesKey, receiveId: appId });
  const encrypt = crypto.encrypt(xml);
  const msgSignature = crypto.sign(timestamp, nonce, encrypt);
  return {
    url: `/wechat/callback?signature=${signature}&timestamp=${timestamp}&nonce=${nonce}&openid=${openidOf(fields)}&encrypt_type=aes&msg_signature=${msgSignature}`,
    body: buildXml(opts.mode === 'compatible' ? { ...fields, Encrypt: encrypt } : { ToUserName: 'gh_sandbox', Encrypt: encrypt }),
  };
}

export function wecomRequest(
  config: WecomKeys,
  fields: XmlBuildFields,
  opts: { timestamp?: number; nonce?: string } = {},
): { url: string; body: string } {
  const { corpId, token, aesKey } = config.wecom;
  const timestamp = String(opts.timestamp ?? Math.floor(Date.now() / 1000));
  const nonce = opts.nonce ?? String(Math.floor(Math.random() * 1e9));
  const crypto = new MessageCrypto({ token, encodingAesKey: aesKey, receiveId: corpId });
  const encrypt = crypto.encrypt(buildXml(fields));
  return {
    url: `/wecom/callback?msg_signature=${crypto.sign(timestamp, nonce, encrypt)}&timestamp=${timestamp}&nonce=${nonce}`,
    body: buildXml({ ToUserName: corpId, AgentID: '', Encrypt: encrypt }),
  };
}

export function textMessage(openid: string, content: string, msgId: string, createTime = Math.floor(Date.now() / 1000)): XmlBuildFields {
  return { ToUserName: 'gh_sandbox', FromUserName: openid, CreateTime: createTime, MsgType: 'text', Content: content, MsgId: msgId };
}

function openidOf(fields: XmlBuildFields): string {
  return typeof fields.FromUserName === 'string' ? fields.FromUserName : '';
}
