/**
 * Why the WeCom JS-SDK refused, in words a rep or an administrator can act on (issue 16 §2b).
 * Every open-source sidebar ends a JS-SDK failure in a toast or raw JSON; WeCom has no simulator,
 * so the page names the cause and the setting to change instead. Pure (no Vue, no DOM, no SDK):
 * the page gathers what it knows (the failure, getContext's entry, whether agentConfig
 * succeeded, the URL it had signed and its timestamp, the device clock) and this decides.
 *
 * The failures, as WeCom words them (the callbacks' `err_msg`/`errMsg`, `<api>:fail <reason>`):
 * @link https://developer.work.weixin.qq.com/document/path/90514 (JS-SDK 错误码与说明)
 * @link https://developer.work.weixin.qq.com/document/path/94313 (agentConfig, 需 3.0.24 以上的客户端先 config)
 */

/** The JS-SDK steps the sidebar runs, in order. */
export type JssdkStep = 'bridge' | 'config' | 'agentConfig' | 'getContext' | 'getCurExternalContact' | 'sendChatMessage';

export interface JssdkFailure {
  step: JssdkStep;
  /** WeCom's message as it came (`getCurExternalContact:fail no permission`); '' when there was none. */
  errMsg: string;
}

/** What the page knew when the step failed. */
export interface DiagnoseContext {
  /** getContext's entry (`single_chat_tools`, `contact_profile`, `group_chat_tools`, `normal`…); null when unknown. */
  entry: string | null;
  /** Whether agentConfig (the page registered with the app's identity) succeeded; null when it never ran. */
  agentConfigOk: boolean | null;
  /** The URL the page asked the server to sign (location.href without `#`, at the time). */
  signedUrl: string | null;
  /** The page's location.href now. */
  pageUrl: string;
  /** The signature's timestamp (seconds), as the server gave it; null when none came. */
  signedTimestamp: number | null;
  /** The device's clock (milliseconds since the epoch). */
  deviceNow: number;
  /** The client's User-Agent: the WeCom version is in it (`wxwork/4.1.30`). */
  userAgent: string;
}

export type DiagnosisCode =
  /** Neither WeCom's bridge nor the sandbox's stand-in: the page was opened in an ordinary browser. */
  | 'not_in_wecom'
  /** The client has no agentConfig at all: older than 3.0.24, or an Android build without it. */
  | 'client_too_old'
  /** no permission, and agentConfig did not succeed: the page is not registered as the app. */
  | 'not_registered_as_app'
  /** no permission, opened somewhere other than a one-to-one chat's tool bar or the profile page. */
  | 'outside_chat_toolbar'
  /** no permission, registered as the app and opened in the right place: the app's or the member's setup. */
  | 'customer_contact_not_set_up'
  /** without context of external contact: the workbench, a group chat, an internal chat. */
  | 'no_customer_context'
  /** invalid signature (config or agentConfig): a URL, ticket or clock problem. */
  | 'invalid_signature'
  /** 40013 / invalid corpid: the corpId registered is not the signed-in corp's. */
  | 'invalid_corp'
  /** config or agentConfig failed for another reason. */
  | 'register_failed'
  /** Any other failure: shown with WeCom's own words as a fact. */
  | 'unknown';

/** One likely cause and what to change for it; `cause` and `fix` are message keys (messages.ts `diag.*`). */
export interface DiagnosisCause {
  cause: string;
  fix: string;
  params?: Record<string, string | number>;
}

export interface DiagnosisFact {
  /** A message key for the fact's label. */
  label: string;
  value: string;
  /** Shown as wrong (red): the value that differs from what it should be. */
  wrong?: boolean;
}

export interface Diagnosis {
  code: DiagnosisCode;
  /** The step that failed and WeCom's message, kept for the page's fact list. */
  step: JssdkStep;
  /** Most likely first. */
  causes: DiagnosisCause[];
  facts: DiagnosisFact[];
}

/** The entries a customer's external_userid can be read from (getContext). */
export const CUSTOMER_ENTRIES: readonly string[] = ['single_chat_tools', 'contact_profile'];

/** WeCom asks for a signature made within a few minutes; beyond this the clocks differ enough to matter. */
const CLOCK_DRIFT_SECONDS = 300;

/** The WeCom version from its User-Agent (`wxwork/4.1.30`), as [major, minor, patch]; null outside WeCom. */
export function wecomVersionOf(userAgent: string): [number, number, number] | null {
  const match = /wxwork\/(\d+)\.(\d+)\.(\d+)/i.exec(userAgent);
  return match ? [Number(match[1]), Number(match[2]), Number(match[3])] : null;
}

/** Clients before 3.0.24 must run wx.config before wx.agentConfig (the SDK does it for them). */
export function needsConfigFirst(version: [number, number, number]): boolean {
  const [major, minor, patch] = version;
  return major < 3 || (major === 3 && (minor < 0 || (minor === 0 && patch < 24)));
}

/** The page URL as it must be signed: without its `#` part. */
export function signableUrl(href: string): string {
  const hash = href.indexOf('#');
  return hash === -1 ? href : href.slice(0, hash);
}

/** The reason after `:fail ` (or the whole message when it has no such part), lower case. */
function reasonOf(errMsg: string): string {
  const index = errMsg.indexOf(':fail');
  return (index === -1 ? errMsg : errMsg.slice(index + ':fail'.length)).trim().toLowerCase();
}

export function diagnose(failure: JssdkFailure, context: DiagnoseContext): Diagnosis {
  const reason = reasonOf(failure.errMsg);
  const base = { step: failure.step };
  const facts = baseFacts(failure, context);

  if (failure.step === 'bridge')
    return { ...base, code: 'not_in_wecom', causes: [{ cause: 'diag.cause.notInWecom', fix: 'diag.fix.notInWecom' }], facts };

  if (
    failure.step === 'agentConfig' &&
    (reason.includes('function not exist') || reason.includes('not a function') || reason.includes('not support'))
  ) {
    return clientTooOld(failure, context, facts);
  }

  if (reason.includes('invalid signature') || /\b40093\b/.test(reason)) return invalidSignature(failure, context, facts);
  if (reason.includes('invalid corpid') || /\b40013\b/.test(reason)) {
    return { ...base, code: 'invalid_corp', causes: [{ cause: 'diag.cause.invalidCorp', fix: 'diag.fix.invalidCorp' }], facts };
  }

  if (reason.includes('without context of external contact')) {
    const entry = context.entry ?? '';
    const cause = entry.startsWith('group_chat')
      ? 'diag.cause.groupChat'
      : entry === 'normal'
        ? 'diag.cause.workbench'
        : 'diag.cause.noCustomer';
    return { ...base, code: 'no_customer_context', causes: [{ cause, fix: 'diag.fix.openFromChat' }], facts };
  }

  if (reason.includes('no permission') || reason.includes('permission denied')) return noPermission(failure, context, facts);

  if (failure.step === 'config' || failure.step === 'agentConfig') {
    const version = wecomVersionOf(context.userAgent);
    const old = version !== null && needsConfigFirst(version);
    return {
      ...base,
      code: 'register_failed',
      causes: old
        ? [{ cause: 'diag.cause.oldClient', fix: 'diag.fix.upgrade', params: { version: version.join('.') } }]
        : [{ cause: failure.step === 'config' ? 'diag.cause.configFailed' : 'diag.cause.agentConfigFailed', fix: 'diag.fix.checkApp' }],
      facts,
    };
  }
  return { ...base, code: 'unknown', causes: [{ cause: 'diag.cause.unknown', fix: 'diag.fix.unknown' }], facts };
}

/** The client has no agentConfig: the page is found out before it calls anything (`typeof wx.agentConfig`), or WeCom says so. */
export function clientTooOld(failure: JssdkFailure, context: DiagnoseContext, facts = baseFacts(failure, context)): Diagnosis {
  const version = wecomVersionOf(context.userAgent);
  return {
    code: 'client_too_old',
    step: failure.step,
    causes: [{ cause: 'diag.cause.noAgentConfig', fix: 'diag.fix.upgrade', params: { version: version ? version.join('.') : '?' } }],
    facts,
  };
}

function noPermission(failure: JssdkFailure, context: DiagnoseContext, facts: DiagnosisFact[]): Diagnosis {
  const base = { step: failure.step, facts };
  // agentConfig first: without the app's identity every customer-contact API answers "no permission".
  if (context.agentConfigOk !== true) {
    return { ...base, code: 'not_registered_as_app', causes: [{ cause: 'diag.cause.notRegistered', fix: 'diag.fix.registerAgent' }] };
  }
  if (context.entry !== null && !CUSTOMER_ENTRIES.includes(context.entry)) {
    return { ...base, code: 'outside_chat_toolbar', causes: [{ cause: 'diag.cause.outsideToolbar', fix: 'diag.fix.openFromChat' }] };
  }
  // Registered, in the right place: WeCom's message cannot tell the app's permission from the member's setup.
  return {
    ...base,
    code: 'customer_contact_not_set_up',
    causes: [
      { cause: 'diag.cause.appLacksCustomerContact', fix: 'diag.fix.grantCustomerContact' },
      { cause: 'diag.cause.memberNotSetUp', fix: 'diag.fix.addMember' },
      { cause: 'diag.cause.outsideVisibleRange', fix: 'diag.fix.visibleRange' },
    ],
  };
}

function invalidSignature(failure: JssdkFailure, context: DiagnoseContext, facts: DiagnosisFact[]): Diagnosis {
  const causes: DiagnosisCause[] = [];
  const page = signableUrl(context.pageUrl);
  const signed = context.signedUrl;
  if (context.pageUrl.includes('#') && signed !== null && signed.includes('#')) {
    causes.push({ cause: 'diag.cause.hashSigned', fix: 'diag.fix.signWithoutHash' });
  }
  if (signed !== null && signed !== page) {
    const a = safeUrl(signed);
    const b = safeUrl(page);
    if (a && b && a.protocol !== b.protocol)
      causes.push({ cause: 'diag.cause.protocol', fix: 'diag.fix.protocol', params: { signed: a.protocol, page: b.protocol } });
    else if (a && b && a.host !== b.host)
      causes.push({ cause: 'diag.cause.host', fix: 'diag.fix.trustedDomain', params: { signed: a.host, page: b.host } });
    else if (a && b && a.pathname.replace(/\/$/, '') === b.pathname.replace(/\/$/, '') && a.pathname !== b.pathname) {
      causes.push({ cause: 'diag.cause.trailingSlash', fix: 'diag.fix.sameUrl' });
    } else causes.push({ cause: 'diag.cause.urlDiffers', fix: 'diag.fix.sameUrl' });
  }
  if (context.signedTimestamp !== null && Math.abs(context.deviceNow / 1000 - context.signedTimestamp) > CLOCK_DRIFT_SECONDS) {
    causes.push({ cause: 'diag.cause.clockDrift', fix: 'diag.fix.clock' });
  }
  // The URL and the clock agree: the signature was made with the wrong ticket (config signs with the
  // corp's jsapi_ticket, agentConfig with the app's ticket), or a stale one.
  causes.push({
    cause: failure.step === 'agentConfig' ? 'diag.cause.wrongAgentTicket' : 'diag.cause.wrongCorpTicket',
    fix: 'diag.fix.ticket',
  });
  return { code: 'invalid_signature', step: failure.step, causes, facts };
}

function safeUrl(text: string): URL | null {
  try {
    return new URL(text);
  } catch {
    return null;
  }
}

function baseFacts(failure: JssdkFailure, context: DiagnoseContext): DiagnosisFact[] {
  const facts: DiagnosisFact[] = [];
  if (failure.errMsg) facts.push({ label: 'diag.fact.errMsg', value: failure.errMsg });
  facts.push({ label: 'diag.fact.step', value: failure.step });
  if (context.entry !== null) facts.push({ label: 'diag.fact.entry', value: context.entry });
  if (context.agentConfigOk !== null) facts.push({ label: 'diag.fact.agentConfig', value: context.agentConfigOk ? 'ok' : 'fail' });
  const version = wecomVersionOf(context.userAgent);
  facts.push({ label: 'diag.fact.client', value: version ? version.join('.') : '-' });
  if (context.signedUrl !== null) {
    facts.push({ label: 'diag.fact.signedUrl', value: context.signedUrl });
    facts.push({ label: 'diag.fact.pageUrl', value: context.pageUrl, wrong: context.signedUrl !== signableUrl(context.pageUrl) });
  }
  if (context.signedTimestamp !== null) {
    const drift = Math.round(context.deviceNow / 1000 - context.signedTimestamp);
    facts.push({ label: 'diag.fact.signedAt', value: String(context.signedTimestamp) });
    facts.push({
      label: 'diag.fact.deviceClock',
      value: `${Math.floor(context.deviceNow / 1000)} (${drift >= 0 ? '+' : ''}${drift} s)`,
      wrong: Math.abs(drift) > CLOCK_DRIFT_SECONDS,
    });
  }
  return facts;
}
