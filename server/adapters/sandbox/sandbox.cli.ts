import axios from 'axios';
import { sandboxActionSchema, type SandboxAction } from './sandbox-player';
import { runAsProcess, type CliIo } from '../cli-runner';

/**
 * `npm run sandbox -- <action> [--scene S] [--openid O] [--content C] [--key K] [--user U] [--state S]`
 * plays a follower or customer action through the running Flywheel's sandbox platform
 * (POST /sandbox/actions), which delivers it to the callback URLs the way WeChat does.
 */
const USAGE = [
  'usage: npm run sandbox -- <action> [options]',
  '  subscribe [--scene expo2026] [--openid O]   follow the Official Account (through a QR scene)',
  '  unsubscribe [--openid O]                    unfollow',
  '  text --content "hello" [--openid O]         send a text message',
  '  click --key MENU_KEY [--openid O]           click a menu button',
  '  menu_scan --key K --result CODE [--openid O] scan a code with a 扫一扫 menu button',
  '  scan --scene expo2026 [--openid O]          scan a QR code as a follower',
  '  add_external_contact [--user U] [--state S] a customer adds a WeCom member',
  '  subscribe_popup --templates T1,T2 [--answer accept|reject] [--openid O]  answer a subscribe-message popup',
  '  scan_channel --scene ch:12 [--openid O]     scan a channel code (渠道活码): its QR code or contact way',
  'Without --openid the latest subscriber acts. The server is found at PUBLIC_BASE_URL or http://localhost:$PORT.',
].join('\n');

const FLAGS: Record<string, keyof SandboxAction> = {
  scene: 'scene',
  openid: 'openid',
  content: 'content',
  key: 'key',
  result: 'scanResult',
  user: 'userId',
  state: 'state',
  unionid: 'unionid',
  external: 'externalUserId',
  templates: 'templateIds',
  answer: 'answer',
};

export class CliUsageError extends Error {}

/** Parses `<action> --flag value ...`; `add-external-contact` is accepted for `add_external_contact`. */
export function parseSandboxArgs(argv: readonly string[]): SandboxAction {
  const [first, ...rest] = argv;
  if (first === undefined || first === '--help' || first === '-h') throw new CliUsageError(USAGE);
  const input: Record<string, string> = { action: first.replace(/-/g, '_') };
  for (let i = 0; i < rest.length; i += 1) {
    const arg = rest[i] ?? '';
    const match = /^--([a-z]+)(?:=(.*))?$/.exec(arg);
    const field = match?.[1] === undefined ? undefined : FLAGS[match[1]];
    if (!match || field === undefined) throw new CliUsageError(`unknown option ${arg}\n${USAGE}`);
    const value = match[2] ?? rest[i + 1];
    if (match[2] === undefined) i += 1;
    if (value === undefined || value === '') throw new CliUsageError(`--${match[1]} needs a value`);
    input[field] = value;
  }
  const parsed = sandboxActionSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const what =
      issue?.path.join('.') === 'action' ? `unknown action ${first}` : `${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`;
    throw new CliUsageError(`${what}\n${USAGE}`);
  }
  return parsed.data;
}

export function resolveServerUrl(env: NodeJS.ProcessEnv): string {
  return (env.PUBLIC_BASE_URL ?? `http://localhost:${env.PORT ?? 3000}`).replace(/\/+$/, '');
}

interface ActionAnswer {
  ok?: boolean;
  status?: number;
  openid?: string;
  externalUserId?: string;
  error?: string;
}

/** Runs the CLI; returns the exit code. `write` and `writeError` receive whole lines. */
export async function runSandboxCli(params: CliIo): Promise<number> {
  let action: SandboxAction;
  try {
    action = parseSandboxArgs(params.argv);
  } catch (error) {
    if (!(error instanceof CliUsageError)) throw error;
    params.writeError(error.message);
    return 2;
  }
  const server = resolveServerUrl(params.env);
  let response;
  try {
    response = await axios.post<unknown>(`${server}/sandbox/actions`, action, { timeout: 20_000, validateStatus: () => true });
  } catch (error) {
    const code = axios.isAxiosError(error) ? (error.code ?? 'no answer') : 'no answer';
    params.writeError(`Flywheel is not reachable at ${server} (${code}). Start it with \`npm start\`, or set PUBLIC_BASE_URL/PORT.`);
    return 1;
  }
  const answer = readAnswer(response.data);
  if (response.status === 404 || answer === null) {
    params.writeError(
      `${server} has no sandbox (HTTP ${response.status} on /sandbox/actions): the server runs with real WeChat credentials. ` +
        'Unset WECHAT_APPID / WECOM_CORP_ID or set SANDBOX=on to use the sandbox platform.',
    );
    return 1;
  }
  if (response.status !== 200 || answer.ok !== true) {
    const reason = answer.error ?? `the callback answered HTTP ${answer.status ?? response.status}`;
    params.writeError(`${action.action} failed: ${reason}`);
    return 1;
  }
  const who =
    answer.openid !== undefined
      ? `openid ${answer.openid}`
      : answer.externalUserId !== undefined
        ? `external_userid ${answer.externalUserId}`
        : '';
  const extra = [
    action.scene && `scene ${action.scene}`,
    action.content && `"${action.content}"`,
    action.key && `key ${action.key}`,
    action.state && `state ${action.state}`,
  ]
    .filter((part): part is string => typeof part === 'string' && part !== '')
    .join(', ');
  params.write(
    `${action.action} played → callback HTTP ${answer.status ?? response.status}${who ? ` (${who}${extra ? `, ${extra}` : ''})` : ''}`,
  );
  return 0;
}

function readAnswer(data: unknown): ActionAnswer | null {
  if (typeof data !== 'object' || data === null || !('ok' in data)) return null;
  const fields = new Map<string, unknown>(Object.entries(data));
  const answer: ActionAnswer = { ok: fields.get('ok') === true };
  const status = fields.get('status');
  if (typeof status === 'number') answer.status = status;
  for (const name of ['openid', 'externalUserId', 'error'] as const) {
    const value = fields.get(name);
    if (typeof value === 'string') answer[name] = value;
  }
  return answer;
}

if (require.main === module) runAsProcess('sandbox', runSandboxCli);
