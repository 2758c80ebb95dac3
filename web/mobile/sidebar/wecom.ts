/**
 * The WeCom JS-SDK as the sidebar uses it: find the bridge (WeCom's, or the sandbox's stand-in),
 * register the page (the SDK runs agentConfig, and config before it on clients older than 3.0.24),
 * read where the page was opened and the customer in the chat, send into the chat. Every failure
 * becomes a Diagnosis (diagnose.ts) with what the page knew at the time, never a raw message.
 *
 * @link https://developer.work.weixin.qq.com/document/path/96914 (@wecom/jssdk: ww.register)
 */
import * as ww from '@wecom/jssdk';
import { api, ApiError } from '@shared/api';
import { diagnose, signableUrl, type Diagnosis, type DiagnoseContext, type JssdkStep } from './diagnose';

/** GET /api/sidebar/jssdk-config: both signatures for one URL, made by the server from the shared tickets. */
export interface JssdkConfig {
  corpId: string;
  agentId: string | number;
  timestamp: number | string;
  nonceStr: string;
  signature: string;
  agentSignature: string;
}

/** The payload sendChatMessage takes (text, news or miniprogram), as share-items gives it. */
export type ChatMessage = Parameters<typeof ww.sendChatMessage>[0];

/** A JS-SDK failure turned into words: the page shows its diagnosis as a page, never a toast. */
export class JssdkError extends Error {
  constructor(readonly diagnosis: Diagnosis) {
    super(diagnosis.code);
  }
}

const JS_API_LIST = ['getContext', 'getCurExternalContact', 'sendChatMessage'];

/** How long the page waits for WeCom to inject its bridge before it tries the sandbox's. */
const BRIDGE_WAIT_MS = 1500;

interface SdkState {
  signedUrl: string | null;
  signedTimestamp: number | null;
  agentConfigOk: boolean | null;
  entry: string | null;
}

const state: SdkState = { signedUrl: null, signedTimestamp: null, agentConfigOk: null, entry: null };

/** One signing request per URL: both signature callbacks read the same answer. */
const configs = new Map<string, Promise<JssdkConfig>>();

function configFor(url: string): Promise<JssdkConfig> {
  let pending = configs.get(url);
  if (!pending) {
    pending = api.get<JssdkConfig>('/api/sidebar/jssdk-config', { url });
    // A failed request is not kept: the next call asks again.
    pending.catch(() => configs.delete(url));
    configs.set(url, pending);
  }
  return pending;
}

function contextNow(): DiagnoseContext {
  return { ...state, pageUrl: location.href, deviceNow: Date.now(), userAgent: navigator.userAgent };
}

/** The step an SDK error message names (`agentConfig:fail …`, `config:fail …`), else the step that was running. */
function stepOf(errMsg: string, running: JssdkStep): JssdkStep {
  const name = errMsg.split(':')[0];
  if (name === 'agentConfig') return 'agentConfig';
  if (name === 'config' || name === 'preVerifyJSAPI') return 'config';
  return running;
}

function errMsgOf(error: unknown): string {
  if (typeof error === 'object' && error !== null && 'errMsg' in error && typeof error.errMsg === 'string') return error.errMsg;
  if (error instanceof Error) return error.message;
  return '';
}

/** Turns a rejected SDK call into a JssdkError; an API error (the signing request's 401) passes through. */
function asJssdkError(error: unknown, running: JssdkStep): unknown {
  if (error instanceof JssdkError) return error;
  if (error instanceof ApiError) return error;
  const errMsg = errMsgOf(error);
  return new JssdkError(diagnose({ step: stepOf(errMsg, running), errMsg }, contextNow()));
}

function loadScript(src: string): Promise<boolean> {
  return new Promise((resolve) => {
    const script = document.createElement('script');
    script.src = src;
    script.onload = () => resolve(true);
    script.onerror = () => resolve(false);
    document.head.appendChild(script);
  });
}

/**
 * WeCom injects WeixinJSBridge a moment after the page loads (and says so with
 * WeixinJSBridgeReady). When it has not come after a short wait, the sandbox's stand-in is tried:
 * /sandbox/wecom/jsbridge.js exists only in sandbox mode, like /sandbox/pay/jsbridge.js.
 */
const hasBridge = (): boolean => Reflect.get(window, 'WeixinJSBridge') !== undefined;

async function ensureBridge(): Promise<void> {
  if (hasBridge()) return;
  await new Promise<void>((resolve) => {
    document.addEventListener('WeixinJSBridgeReady', () => resolve(), { once: true });
    setTimeout(resolve, BRIDGE_WAIT_MS);
  });
  if (hasBridge()) return;
  if ((await loadScript('/sandbox/wecom/jsbridge.js')) && hasBridge()) {
    // The SDK waits for this event when the bridge was missing at its load.
    document.dispatchEvent(new Event('WeixinJSBridgeReady'));
    return;
  }
  throw new JssdkError(diagnose({ step: 'bridge', errMsg: '' }, contextNow()));
}

/** Registers the page with the app's identity; resolves once the bridge is there (the SDK signs lazily, on the first call). */
export async function registerSidebar(): Promise<void> {
  await ensureBridge();
  const url = signableUrl(location.href);
  // corpId and agentId come with the signature: one request gives both.
  const first = await configFor(url);
  const sign = async (signUrl: string, key: 'signature' | 'agentSignature') => {
    const config = await configFor(signUrl);
    state.signedUrl = signUrl;
    state.signedTimestamp = Number(config.timestamp);
    return { timestamp: config.timestamp, nonceStr: config.nonceStr, signature: config[key] };
  };
  ww.register({
    corpId: first.corpId,
    agentId: first.agentId,
    jsApiList: JS_API_LIST,
    getConfigSignature: (signUrl) => sign(signUrl, 'signature'),
    getAgentConfigSignature: (signUrl) => sign(signUrl, 'agentSignature'),
    onAgentConfigSuccess: () => {
      state.agentConfigOk = true;
    },
    onAgentConfigFail: () => {
      state.agentConfigOk = false;
    },
  });
}

/** Where the page was opened: `single_chat_tools`, `contact_profile`, `group_chat_tools`, `normal`… */
export async function openedFrom(): Promise<string> {
  try {
    const context = await ww.getContext();
    state.entry = context.entry;
    return context.entry;
  } catch (error) {
    throw asJssdkError(error, 'getContext');
  }
}

/** The external_userid of the customer in the chat. */
export async function currentCustomer(): Promise<string> {
  try {
    return (await ww.getCurExternalContact()).userId;
  } catch (error) {
    throw asJssdkError(error, 'getCurExternalContact');
  }
}

/** Sends into the chat: `sent`, or `cancelled` when the rep closed WeCom's confirmation; a failure throws. */
export async function sendToChat(message: ChatMessage): Promise<'sent' | 'cancelled'> {
  try {
    await ww.sendChatMessage(message);
    return 'sent';
  } catch (error) {
    if (errMsgOf(error).endsWith(':cancel')) return 'cancelled';
    throw asJssdkError(error, 'sendChatMessage');
  }
}
