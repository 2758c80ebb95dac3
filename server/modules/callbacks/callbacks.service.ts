import type { OfficialAccountMessageMode } from '../../../config/config.schema';
import type { Clock } from '../../adapters/clock';
import type { Logger } from '../../adapters/logger';
import { MessageCrypto } from '../../wechat/message-crypto';
import { parseOfficialAccountMessage, type OfficialAccountMessage } from '../../wechat/official-account-message';
import { buildEncryptedReply, buildNewsReply, buildTextReply, readEncryptedEnvelope } from '../../wechat/passive-reply';
import { ProtocolError } from '../../wechat/protocol-error';
import { verifySha1Signature } from '../../wechat/signature';
import { decodeUtf8Replacing, type DecodedText } from '../../wechat/utf8';
import { parseWecomEvent } from '../../wechat/wecom-event';
import { parseXmlMessage } from '../../wechat/xml';
import { mapOfficialAccountMessage, mapWecomEvent, type InteractionDraft } from '../interactions/interaction-mapping';
import type { ReactionsWorker } from '../reactions/reactions.worker';
import type { PassiveReply, TagRulesEngine } from '../tag-rules/tag-rules.engine';
import type { CallbackSignatures } from './callback-signatures';
import { StoreUnavailableError, type CallbackStore } from './callback-store';

/** What a callback route answers: WeChat reads the status and a plain-text or XML body. */
export interface CallbackAnswer {
  status: number;
  body: string;
  contentType: 'text/plain' | 'application/xml';
}

export type CallbackQuery = Record<string, string | undefined>;

export interface CallbacksServiceDeps {
  /** null: the platform is not configured, and its callbacks answer 404. */
  officialAccount: { appId: string; token: string; aesKey: string; messageMode: OfficialAccountMessageMode } | null;
  wecom: { corpId: string; token: string; aesKey: string } | null;
  /** Older (or newer) timestamps are refused; 0 turns the check off. */
  maxAgeSeconds: number;
  /** The callback store, as compose.ts hands it over (timed for the metrics). */
  store: Pick<CallbackStore, 'accept'>;
  /** The plain-mode replay guard; never consulted in safe or compatible mode. */
  signatures: Pick<CallbackSignatures, 'claim'>;
  /** Kicked after each new interaction; its reactions run after the answer. */
  reactions: Pick<ReactionsWorker, 'kick'>;
  rules: TagRulesEngine;
  /**
   * A channel code's own passive reply (its welcome, on a subscribe through an oa_qr channel),
   * asked before the tag rules' replies: the follower came through that code.
   */
  channelReply?: { findSubscribeReply(draft: InteractionDraft): Promise<PassiveReply | null> };
  clock: Clock;
  logger: Logger;
}

const text = (status: number, body: string): CallbackAnswer => ({ status, body, contentType: 'text/plain' });
const SUCCESS = text(200, 'success');
const LAST_STORABLE_MS = Date.UTC(9999, 11, 31);
const NOT_CONFIGURED = text(404, 'not configured');

type CallbackSource = 'oa' | 'wecom';

/**
 * Official Account and WeCom callbacks, in the order WeChat needs them: verify, decrypt and
 * parse; store the interaction and its work row in one transaction; answer within 5 s; the
 * reactions run after the answer (ReactionsWorker). Failures before the commit answer 5xx so that
 * WeChat retries; bad input gets 4xx and stores nothing.
 * @link https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Message_encryption_and_decryption_instructions.html
 * @link https://developer.work.weixin.qq.com/document/path/90930
 */
export class CallbacksService {
  private readonly oa: { appId: string; token: string; crypto: MessageCrypto; messageMode: OfficialAccountMessageMode } | null;
  private readonly wecom: { corpId: string; crypto: MessageCrypto } | null;

  constructor(private readonly deps: CallbacksServiceDeps) {
    const { officialAccount: oa, wecom } = deps;
    // Config refuses this pair; a service built another way must not get a guard that forgets nothing.
    if (oa?.messageMode === 'plain' && deps.maxAgeSeconds === 0) throw new Error('plain mode needs a freshness window (maxAgeSeconds > 0)');
    this.oa = oa && {
      appId: oa.appId,
      token: oa.token,
      messageMode: oa.messageMode,
      crypto: new MessageCrypto({ token: oa.token, encodingAesKey: oa.aesKey, receiveId: oa.appId }),
    };
    this.wecom = wecom && {
      corpId: wecom.corpId,
      crypto: new MessageCrypto({ token: wecom.token, encodingAesKey: wecom.aesKey, receiveId: wecom.corpId }),
    };
  }

  /** Whether this platform is configured; the router mounts only the routes of those that are. */
  accepts(source: CallbackSource): boolean {
    return source === 'oa' ? this.oa !== null : this.wecom !== null;
  }

  /**
   * URL verification: echo `echostr` when the signature over [token, timestamp, nonce] holds. In
   * plain mode the query is also a valid POST URL, so it claims its signature (with the empty body
   * a GET has): a verification URL seen in a log cannot be used to post a message afterwards.
   */
  async verifyOfficialAccountUrl(q: CallbackQuery): Promise<CallbackAnswer> {
    const oa = this.oa;
    if (!oa) return NOT_CONFIGURED;
    const refused = this.checkFreshness(q.timestamp) ?? this.checkOaSignature(oa.token, q);
    if (refused) return refused;
    if (oa.messageMode === 'plain') {
      const reused = await this.claimPlainSignature(q, Buffer.alloc(0));
      if (reused) return reused;
    }
    return text(200, q.echostr ?? '');
  }

  /**
   * The configured mode decides what a request must be, never the request itself. In `safe` and
   * `compatible` a request without `encrypt_type=aes` is refused: its `signature` covers token,
   * timestamp and nonce but not the body, so whoever saw one signed URL could otherwise post any
   * XML while the timestamp is fresh, only by leaving out encrypt_type. In `plain` mode, where
   * that is how WeChat posts, the replay guard lets each signature carry one body only.
   * An encrypted request is accepted in every mode: msg_signature covers its Encrypt field and
   * only the AES key opens it, and accepting it in plain mode lets the console be switched to safe
   * mode before the configuration follows without losing a message in between. In plain mode it
   * claims its signature like a plaintext one: its URL without encrypt_type and msg_signature is a
   * valid plain-mode URL, which must not carry a second body either.
   */
  async receiveOfficialAccount(q: CallbackQuery, body: Buffer): Promise<CallbackAnswer> {
    const oa = this.oa;
    if (!oa) return NOT_CONFIGURED;
    const refused = this.checkFreshness(q.timestamp) ?? this.checkOaSignature(oa.token, q);
    if (refused) return refused;
    const encrypted = q.encrypt_type === 'aes';
    if (oa.messageMode === 'plain') {
      const reused = await this.claimPlainSignature(q, body);
      if (reused) return reused;
    } else if (!encrypted) {
      return this.refusePlaintext(oa.messageMode);
    }

    // Invalid UTF-8 is decoded with U+FFFD and stored, in every mode (decodeUtf8Replacing).
    let decoded: DecodedText;
    let msg: OfficialAccountMessage;
    try {
      const plain = decodeUtf8Replacing(body);
      const outer = parseXmlMessage(plain.text);
      if (encrypted) {
        // The Encrypt field is the message; msg_signature covers it. Compatible mode's plaintext
        // fields beside it are covered by nothing and never read.
        const envelope = readEncryptedEnvelope(outer);
        if (!oa.crypto.verify(q.msg_signature, q.timestamp ?? '', q.nonce ?? '', envelope)) return text(401, 'invalid signature');
        decoded = oa.crypto.decryptText(envelope);
        msg = parseOfficialAccountMessage(parseXmlMessage(decoded.text));
      } else {
        decoded = plain;
        msg = parseOfficialAccountMessage(outer);
      }
    } catch (error) {
      return this.refuseMalformed('oa', error);
    }

    const draft = mapOfficialAccountMessage(oa.appId, msg, { invalidUtf8: decoded.invalidUtf8 });
    this.warnIfInvalidUtf8('oa', decoded, draft);
    const unstored = await this.store('oa', draft);
    if (unstored) return unstored;
    const reply = (await this.deps.channelReply?.findSubscribeReply(draft)) ?? (await this.deps.rules.findReply(draft));
    if (!reply) return SUCCESS;
    const replyXml = renderReply(reply, msg, Math.floor(this.deps.clock.now().getTime() / 1000));
    const answer = encrypted ? buildEncryptedReply(oa.crypto, replyXml, q.timestamp ?? '', q.nonce ?? '') : replyXml;
    return { status: 200, body: answer, contentType: 'application/xml' };
  }

  /** WeCom URL verification: answer the decrypted echostr, plain, with no quotes or newline. */
  verifyWecomUrl(q: CallbackQuery): CallbackAnswer {
    const wecom = this.wecom;
    if (!wecom) return NOT_CONFIGURED;
    const refused = this.checkFreshness(q.timestamp);
    if (refused) return refused;
    const echostr = q.echostr ?? '';
    if (!wecom.crypto.verify(q.msg_signature, q.timestamp ?? '', q.nonce ?? '', echostr)) return text(401, 'invalid signature');
    try {
      return text(200, wecom.crypto.decrypt(echostr));
    } catch (error) {
      return this.refuseMalformed('wecom', error);
    }
  }

  async receiveWecom(q: CallbackQuery, body: Buffer): Promise<CallbackAnswer> {
    const wecom = this.wecom;
    if (!wecom) return NOT_CONFIGURED;
    const refused = this.checkFreshness(q.timestamp);
    if (refused) return refused;
    let decoded: DecodedText;
    let draft: InteractionDraft;
    try {
      const envelope = readEncryptedEnvelope(parseXmlMessage(decodeUtf8Replacing(body).text));
      if (!wecom.crypto.verify(q.msg_signature, q.timestamp ?? '', q.nonce ?? '', envelope)) return text(401, 'invalid signature');
      decoded = wecom.crypto.decryptText(envelope);
      draft = mapWecomEvent(wecom.corpId, parseWecomEvent(parseXmlMessage(decoded.text)), { invalidUtf8: decoded.invalidUtf8 });
    } catch (error) {
      return this.refuseMalformed('wecom', error);
    }
    this.warnIfInvalidUtf8('wecom', decoded, draft);
    return (await this.store('wecom', draft)) ?? SUCCESS;
  }

  /**
   * Commits before answering; the reactions are only kicked, never awaited. Null when stored (or
   * a duplicate, which answers as the first delivery did); a 503 past the store's deadline, so
   * WeChat retries in time and the dedupe key makes the retry safe.
   */
  private async store(source: CallbackSource, draft: InteractionDraft): Promise<CallbackAnswer | null> {
    let recorded: boolean;
    try {
      recorded = (await this.deps.store.accept(draft)).recorded;
    } catch (error) {
      if (!(error instanceof StoreUnavailableError)) throw error;
      this.deps.logger.warn('callback not stored; answering 503 so that WeChat retries', { source, reason: error.message });
      return text(503, 'storage unavailable');
    }
    if (recorded) this.deps.reactions.kick();
    else this.deps.logger.debug('duplicate callback ignored', { source, dedupeKey: draft.dedupeKey });
    return null;
  }

  private checkOaSignature(token: string, q: CallbackQuery): CallbackAnswer | null {
    const ok = verifySha1Signature(q.signature, [token, q.timestamp ?? '', q.nonce ?? '']);
    return ok ? null : text(401, 'invalid signature');
  }

  /**
   * A plaintext request (already fresh and signed) outside plain mode. Logged without the body:
   * signed, it comes from someone with the token, most likely WeChat with the console in plain mode
   * while WECHAT_MESSAGE_MODE says otherwise, and the operator needs to see why messages vanish.
   */
  private refusePlaintext(mode: OfficialAccountMessageMode): CallbackAnswer {
    this.deps.logger.warn('plaintext Official Account callback refused: WECHAT_MESSAGE_MODE requires encrypt_type=aes', { mode });
    return text(401, 'encrypted message required');
  }

  /** Plain mode: refused when the request's signature (already fresh and valid) first came with another body. */
  private async claimPlainSignature(q: CallbackQuery, body: Buffer): Promise<CallbackAnswer | null> {
    const timestamp = q.timestamp ?? '';
    const claimed = await this.deps.signatures.claim({
      timestamp,
      nonce: q.nonce ?? '',
      signature: q.signature ?? '',
      body,
      // Clamped: datetime(3) ends with the year 9999, and CALLBACK_MAX_AGE_S has no upper bound.
      expiresAt: new Date(Math.min((Number(timestamp) + this.deps.maxAgeSeconds) * 1000, LAST_STORABLE_MS)),
    });
    if (claimed) return null;
    this.deps.logger.warn('plain-mode callback refused: its signature was already used with another body (a captured URL?)', {
      source: 'oa',
    });
    return text(401, 'signature already used');
  }

  /** Replays of an old, signed request are refused (CALLBACK_MAX_AGE_S). */
  private checkFreshness(timestamp: string | undefined): CallbackAnswer | null {
    if (!timestamp || !/^\d{1,12}$/.test(timestamp)) return text(401, 'invalid timestamp');
    if (this.deps.maxAgeSeconds === 0) return null;
    const age = Math.abs(this.deps.clock.now().getTime() / 1000 - Number(timestamp));
    return age > this.deps.maxAgeSeconds ? text(401, 'timestamp outside the allowed window') : null;
  }

  /** Logged without the body, like a refusal: the key says which interaction carries the flag. */
  private warnIfInvalidUtf8(source: CallbackSource, decoded: DecodedText, draft: InteractionDraft): void {
    if (decoded.invalidUtf8)
      this.deps.logger.warn('callback body is not valid UTF-8; stored with U+FFFD', { source, dedupeKey: draft.dedupeKey });
  }

  /** Logged without the body: it may hold personal data, and it is not ours to keep. */
  private refuseMalformed(source: CallbackSource, error: unknown): CallbackAnswer {
    if (!(error instanceof ProtocolError)) throw error;
    this.deps.logger.warn('callback refused', { source, code: error.code });
    if (error.code === 'xml_too_large') return text(413, 'payload too large');
    return text(400, error.code === 'malformed_xml' ? 'malformed xml' : 'decrypt failed');
  }
}

function renderReply(reply: PassiveReply, msg: OfficialAccountMessage, createTime: number): string {
  const to = { toUser: msg.fromUserName, fromUser: msg.toUserName, createTime };
  if (reply.kind === 'text') return buildTextReply({ ...to, content: reply.content });
  const isEvent = msg.msgType.toLowerCase() === 'event';
  const max = isEvent ? 8 : 1;
  return buildNewsReply({ ...to, articles: reply.articles.slice(0, max), inReplyTo: isEvent ? 'event' : 'message' });
}
