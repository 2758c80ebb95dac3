import { randomBytes } from 'node:crypto';
import QRCode from 'qrcode';
import type { Clock } from '../clock';
import { SandboxErrcode } from './sandbox-errcode';

/** "最大不超过2592000（即30天）" (qrcode/create expire_seconds). */
const MAX_QR_EXPIRE_S = 2_592_000;
/** "此字段如果不填，则默认有效期为60秒" — only for the temporary actions. */
const DEFAULT_QR_EXPIRE_S = 60;
/** "企业可以在收到相关事件后20秒内调用". */
export const WELCOME_CODE_TTL_MS = 20_000;
/** The published pages of the sandbox's mini-program: getwxacodeunlimit with check_path refuses any other (41030). */
export const SANDBOX_MP_PAGES: readonly string[] = ['pages/index/index', 'pages/channel/index', 'pages/event/index'];

/**
 * The sandbox's stand-in images are real, scannable QR codes, drawn small: pure-JavaScript PNG
 * encoding costs by the pixel, and tests draw many.
 */
const SANDBOX_PNG = { type: 'png', margin: 1, scale: 3 } as const;

export interface SandboxQrCode {
  ticket: string;
  scene: string;
  permanent: boolean;
  /** ms since the epoch; null for a permanent code. */
  expiresAt: number | null;
  url: string;
}

export interface SandboxContactWay {
  configId: string;
  type: number;
  userIds: string[];
  state: string | null;
}

export interface SandboxWelcome {
  welcomeCode: string;
  externalUserId: string;
  userId: string;
  text: string;
  at: Date;
}

/**
 * What the channel codes of issue 15 need from the platform: parametric QR codes, contact ways,
 * welcome codes and mini-program codes, each checked as the platform documents.
 */
export class SandboxChannelCodes {
  readonly qrCodes = new Map<string, SandboxQrCode>();
  readonly contactWays = new Map<string, SandboxContactWay>();
  readonly welcomes: SandboxWelcome[] = [];
  private readonly welcomeCodes = new Map<string, { externalUserId: string; userId: string; issuedAt: number; used: boolean }>();

  constructor(private readonly clock: Clock) {}

  /** qrcode/create with a string scene (QR_STR_SCENE / QR_LIMIT_STR_SCENE); the numeric scene_id actions are not served. */
  createQrCode(body: Record<string, unknown>): { ticket: string; url: string; expire_seconds?: number } {
    const action = body.action_name;
    if (action !== 'QR_STR_SCENE' && action !== 'QR_LIMIT_STR_SCENE') throw new SandboxErrcode(40097, 'invalid action_name');
    const info = body.action_info as { scene?: { scene_str?: unknown } } | undefined;
    const scene = info?.scene?.scene_str;
    // "场景值ID（字符串形式的ID），字符串类型，长度限制为1到64".
    if (typeof scene !== 'string' || scene.length < 1 || scene.length > 64) throw new SandboxErrcode(40097, 'invalid scene_str');
    const ticket = `gQ${randomBytes(36).toString('base64url')}`;
    const url = `http://weixin.qq.com/q/${randomBytes(12).toString('base64url')}`;
    const permanent = action === 'QR_LIMIT_STR_SCENE';
    const expireSeconds = permanent
      ? null
      : Math.min(typeof body.expire_seconds === 'number' ? Math.trunc(body.expire_seconds) : DEFAULT_QR_EXPIRE_S, MAX_QR_EXPIRE_S);
    this.qrCodes.set(ticket, {
      ticket,
      scene,
      permanent,
      expiresAt: expireSeconds === null ? null : this.clock.now().getTime() + expireSeconds * 1000,
      url,
    });
    return expireSeconds === null ? { ticket, url } : { ticket, expire_seconds: expireSeconds, url };
  }

  /** The live code whose scene is this one (the newest), for the player. */
  findQrCodeByScene(scene: string): SandboxQrCode | null {
    const now = this.clock.now().getTime();
    const found = [...this.qrCodes.values()].filter((c) => c.scene === scene && (c.expiresAt === null || c.expiresAt > now));
    return found.at(-1) ?? null;
  }

  /** showqrcode: the code's PNG, or null for an unknown or expired ticket. */
  async qrCodePng(ticket: string): Promise<Buffer | null> {
    const code = this.qrCodes.get(ticket);
    if (!code || (code.expiresAt !== null && code.expiresAt <= this.clock.now().getTime())) return null;
    return QRCode.toBuffer(code.url, SANDBOX_PNG);
  }

  /** externalcontact/add_contact_way, scene 2 (QR code) only: the channel codes are QR codes. */
  addContactWay(body: Record<string, unknown>, origin: string): { config_id: string; qr_code: string } {
    const type = body.type;
    if (type !== 1 && type !== 2) throw new SandboxErrcode(40097, 'invalid type');
    if (body.scene !== 2) throw new SandboxErrcode(40097, 'invalid scene: only 2 (QR code) is served by the sandbox');
    const users = Array.isArray(body.user) ? body.user.filter((u): u is string => typeof u === 'string' && u !== '') : [];
    // "单人类型时，user只能填一个"; "user和party不可同时为空"; "最多可添加100个成员".
    if (users.length === 0 || (type === 1 && users.length !== 1) || users.length > 100)
      throw new SandboxErrcode(40031, 'invalid user list');
    // "企业自定义的state参数 ... 不超过30个字符".
    if (body.state !== undefined && (typeof body.state !== 'string' || [...body.state].length > 30))
      throw new SandboxErrcode(40058, 'state exceeds 30 characters');
    const configId = randomBytes(16).toString('hex');
    this.contactWays.set(configId, { configId, type, userIds: users, state: typeof body.state === 'string' ? body.state : null });
    return { config_id: configId, qr_code: `${origin}/sandbox/wecom/contact_way_qr/${configId}.png` };
  }

  findContactWayByState(state: string): SandboxContactWay | null {
    return [...this.contactWays.values()].filter((w) => w.state === state).at(-1) ?? null;
  }

  async contactWayPng(configId: string): Promise<Buffer | null> {
    const way = this.contactWays.get(configId);
    if (!way) return null;
    return QRCode.toBuffer(`https://work.weixin.qq.com/ca/sandbox/${configId}`, SANDBOX_PNG);
  }

  /** A fresh single-use welcome code for one add (the player puts it in the event). */
  issueWelcomeCode(externalUserId: string, userId: string): string {
    const code = `WELCOMECODE_${randomBytes(18).toString('base64url')}`;
    this.welcomeCodes.set(code, { externalUserId, userId, issuedAt: this.clock.now().getTime(), used: false });
    return code;
  }

  /**
   * send_welcome_msg: once per code, within 20 s. A second call answers 41051 ("externaluser has
   * started chatting", what WeCom answers every caller after the first). WeCom documents no
   * errcode of its own for an expired code; the sandbox answers 41051 there too, since either way
   * the customer can no longer be welcomed.
   */
  sendWelcome(body: Record<string, unknown>): void {
    const code = typeof body.welcome_code === 'string' ? body.welcome_code : '';
    const issued = this.welcomeCodes.get(code);
    if (!issued) throw new SandboxErrcode(40097, 'invalid welcome_code');
    const text = (body.text as { content?: unknown } | undefined)?.content;
    if (typeof text !== 'string' || text === '') throw new SandboxErrcode(40097, 'text.content is empty');
    if (issued.used) throw new SandboxErrcode(41051, 'externaluser has started chatting');
    if (this.clock.now().getTime() - issued.issuedAt > WELCOME_CODE_TTL_MS)
      throw new SandboxErrcode(41051, 'externaluser has started chatting (welcome_code expired)');
    issued.used = true;
    this.welcomes.push({ welcomeCode: code, externalUserId: issued.externalUserId, userId: issued.userId, text, at: this.clock.now() });
  }

  /** wxa/getwxacodeunlimit: 40169 for a scene over 32 characters, 41030 for a page the mini-program does not have. */
  async unlimitedCodePng(body: Record<string, unknown>): Promise<Buffer> {
    const scene = body.scene;
    if (typeof scene !== 'string' || scene.length === 0 || scene.length > 32) throw new SandboxErrcode(40169, 'invalid length for scene');
    const page = body.page;
    if (page !== undefined && (typeof page !== 'string' || (body.check_path !== false && !SANDBOX_MP_PAGES.includes(page))))
      throw new SandboxErrcode(41030, 'invalid page');
    return QRCode.toBuffer(`https://mp.weixin.qq.com/a/sandbox?scene=${encodeURIComponent(scene)}`, SANDBOX_PNG);
  }
}
