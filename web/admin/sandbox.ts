/** What the sandbox panel sends to POST /sandbox/actions (server/adapters/sandbox/sandbox-player.ts). */
export type SandboxActionName = 'subscribe' | 'text' | 'click' | 'menu_scan' | 'scan' | 'unsubscribe' | 'add_external_contact';

export interface SandboxInputs {
  openid: string | null;
  scene: string;
  content: string;
  key: string;
  scanResult: string;
  state: string;
}

/** The body for one action: only the fields it uses, empty ones left out. */
export function sandboxActionBody(action: SandboxActionName, inputs: SandboxInputs): Record<string, string> {
  const body: Record<string, string> = { action };
  const put = (name: string, value: string | null) => {
    if (value !== null && value.trim() !== '') body[name] = value.trim();
  };
  switch (action) {
    case 'subscribe':
      put('openid', inputs.openid);
      put('scene', inputs.scene);
      break;
    case 'scan':
      put('openid', inputs.openid);
      put('scene', inputs.scene);
      break;
    case 'text':
      put('openid', inputs.openid);
      put('content', inputs.content);
      break;
    case 'click':
      put('openid', inputs.openid);
      put('key', inputs.key);
      break;
    case 'menu_scan':
      put('openid', inputs.openid);
      put('key', inputs.key);
      put('scanResult', inputs.scanResult);
      break;
    case 'unsubscribe':
      put('openid', inputs.openid);
      break;
    case 'add_external_contact':
      put('state', inputs.state);
      break;
  }
  return body;
}

/** A passive reply's words: the text's Content, or the news articles' titles. */
export function replyTextOf(xml: string): string {
  const values = (tag: string) => [...xml.matchAll(new RegExp(`<${tag}>(?:<!\\[CDATA\\[([\\s\\S]*?)\\]\\]>|([^<]*))</${tag}>`, 'g'))].map((m) => m[1] ?? m[2] ?? '');
  const content = values('Content');
  if (content.length > 0) return content.join('\n');
  return values('Title').join('\n');
}
