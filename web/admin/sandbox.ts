/** What the sandbox panel sends to POST /sandbox/actions (server/adapters/sandbox/sandbox-player.ts). */
export type SandboxActionName =
  'subscribe' | 'text' | 'click' | 'menu_scan' | 'scan' | 'unsubscribe' | 'add_external_contact' | 'scan_channel';

export interface SandboxInputs {
  openid: string | null;
  scene: string;
  content: string;
  key: string;
  scanResult: string;
  state: string;
}

/** The inputs each action sends (POST /sandbox/actions reads the same names), in the panel's order. */
const ACTION_FIELDS: Record<SandboxActionName, (keyof SandboxInputs)[]> = {
  subscribe: ['openid', 'scene'],
  text: ['openid', 'content'],
  click: ['openid', 'key'],
  menu_scan: ['openid', 'key', 'scanResult'],
  scan: ['openid', 'scene'],
  unsubscribe: ['openid'],
  add_external_contact: ['state'],
  // A channel code (渠道活码) by its scene `ch:<id>`: its QR code or contact way, as the sandbox made it.
  scan_channel: ['openid', 'scene'],
};

export const SANDBOX_ACTIONS = Object.keys(ACTION_FIELDS) as SandboxActionName[];

/** Whether an action sends that input (the panel shows only those). */
export function actionUses(action: SandboxActionName, field: keyof SandboxInputs): boolean {
  return ACTION_FIELDS[action].includes(field);
}

/** The body for one action: only the fields it uses, empty ones left out. */
export function sandboxActionBody(action: SandboxActionName, inputs: SandboxInputs): Record<string, string> {
  const body: Record<string, string> = { action };
  for (const field of ACTION_FIELDS[action]) {
    const value = inputs[field];
    if (value !== null && value.trim() !== '') body[field] = value.trim();
  }
  return body;
}

/** A passive reply's words: the text's Content, or the news articles' titles. */
export function replyTextOf(xml: string): string {
  const values = (tag: string) =>
    [...xml.matchAll(new RegExp(`<${tag}>(?:<!\\[CDATA\\[([\\s\\S]*?)\\]\\]>|([^<]*))</${tag}>`, 'g'))].map((m) => m[1] ?? m[2] ?? '');
  const content = values('Content');
  if (content.length > 0) return content.join('\n');
  return values('Title').join('\n');
}
