import type { MessageCrypto } from './message-crypto';
import { ProtocolError } from './protocol-error';
import { buildXml, type XmlFields } from './xml';
import { readText } from './xml-read';

/**
 * Passive replies: the XML answered in the HTTP response to a callback.
 * @link https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Passive_user_reply_message.html
 */
export interface TextReplyParams {
  /** The user's openid (the inbound FromUserName). */
  toUser: string;
  /** The account's original id (the inbound ToUserName). */
  fromUser: string;
  content: string;
  createTime: number;
}

export interface NewsArticle {
  title: string;
  description?: string;
  picUrl?: string;
  url?: string;
}

export interface NewsReplyParams {
  toUser: string;
  fromUser: string;
  createTime: number;
  articles: NewsArticle[];
  /** What the reply answers; the platform allows fewer articles in reply to a user's message. */
  inReplyTo?: 'message' | 'event';
}

/**
 * "当用户发送文本、图片、语音、视频、图文、地理位置这六种消息时，开发者只能回复1条图文消息；
 * 其余场景最多可回复8条图文消息" (ArticleCount, Passive_user_reply_message).
 */
const MAX_ARTICLES = { message: 1, event: 8 } as const;

export function buildTextReply(p: TextReplyParams): string {
  return buildXml({
    ToUserName: p.toUser,
    FromUserName: p.fromUser,
    CreateTime: p.createTime,
    MsgType: 'text',
    Content: p.content,
  });
}

export function buildNewsReply(p: NewsReplyParams): string {
  const max = MAX_ARTICLES[p.inReplyTo ?? 'message'];
  if (p.articles.length === 0) throw new Error('a news reply needs at least one article');
  if (p.articles.length > max) {
    throw new Error(`a news reply to a ${p.inReplyTo ?? 'message'} may carry at most ${max} article(s)`);
  }
  return buildXml({
    ToUserName: p.toUser,
    FromUserName: p.fromUser,
    CreateTime: p.createTime,
    MsgType: 'news',
    ArticleCount: p.articles.length,
    Articles: {
      item: p.articles.map((article) => ({
        Title: article.title,
        Description: article.description ?? '',
        PicUrl: article.picUrl ?? '',
        Url: article.url ?? '',
      })),
    },
  });
}

/**
 * The reply envelope of safe mode and WeCom: the plain reply encrypted, signed with
 * msg_signature over [token, timestamp, nonce, Encrypt].
 * @link https://developer.work.weixin.qq.com/document/path/90968 (被动回复消息格式)
 */
export function buildEncryptedReply(crypto: MessageCrypto, plainXml: string, timestamp: string, nonce: string): string {
  const encrypted = crypto.encrypt(plainXml);
  return buildXml({
    Encrypt: encrypted,
    MsgSignature: crypto.sign(timestamp, nonce, encrypted),
    // The documented envelope writes TimeStamp bare, the other fields in CDATA.
    TimeStamp: /^(0|[1-9]\d{0,14})$/.test(timestamp) ? Number(timestamp) : timestamp,
    Nonce: nonce,
  });
}

/** The ciphertext of an encrypted callback body (`<xml><ToUserName/><Encrypt/>...</xml>`). */
export function readEncryptedEnvelope(fields: XmlFields): string {
  const encrypted = readText(fields, 'Encrypt');
  if (encrypted === undefined || encrypted.trim() === '') {
    throw new ProtocolError('malformed_xml', 'encrypted callback has no Encrypt field');
  }
  return encrypted;
}
