import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';

const OUTPUT_TAIL_CHARS = 4000;
export const STOP_GRACE_MS = 10_000;
/** With a CPU profile asked for: the profile is written only at a normal exit, after the drain. */
const PROFILED_STOP_GRACE_MS = 180_000;
const PROBE_TIMEOUT_MS = 1000;
const PROBE_INTERVAL_MS = 200;

/** Every child still running, so that an interrupted benchmark leaves no server behind. */
const running = new Set<ChildProcess>();

/** Kills the servers this process started (by their handles); safe to call at exit. */
export function killChildServers(): void {
  for (const child of running) child.kill('SIGKILL');
  running.clear();
}

/** A loopback port that was free a moment ago (the OS picks it; the probe socket is closed). */
export function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      probe.close(() => (port > 0 ? resolve(port) : reject(new Error('no free port'))));
    });
  });
}

export interface ChildServer {
  port: number;
  /** The server's process id, for its CPU time (bench/cpu-time.ts). */
  pid: number | undefined;
  /** The last few thousand characters the child wrote to stdout and stderr. */
  outputTail(): string;
  /** SIGTERM, then SIGKILL if it has not exited after a grace period; says which ended it. */
  stop(): Promise<'exited' | 'killed'>;
}

export interface StartChildServerParams {
  /** The compiled .js file to run with this Node binary. */
  script: string;
  port: number;
  env: NodeJS.ProcessEnv;
  /** GET this path until it answers; with readyStatus, until it answers that status. */
  readyPath: string;
  readyStatus: number | null;
  timeoutMs: number;
}

/** Starts a server in its own process, so it does not share the load generator's event loop. */
export async function startChildServer(params: StartChildServerParams): Promise<ChildServer> {
  // BENCH_CPU_PROF_DIR: each server writes a V8 CPU profile there when it exits (where the time goes).
  const profile = process.env.BENCH_CPU_PROF_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF_DIR}`] : [];
  const child = spawn(process.execPath, [...profile, params.script], { env: params.env, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let tail = '';
  const keep = (chunk: Buffer): void => {
    tail = (tail + chunk.toString('utf8')).slice(-OUTPUT_TAIL_CHARS);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  // Set from the exit listener; an object so the checks below are not narrowed away.
  const state: { exited: string | null } = { exited: null };
  const exit = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      state.exited = signal ?? `code ${String(code)}`;
      running.delete(child);
      resolve();
    });
  });

  const server: ChildServer = {
    port: params.port,
    pid: child.pid,
    outputTail: () => tail,
    stop: async () => {
      if (state.exited !== null) return 'exited';
      child.kill('SIGTERM');
      const grace = profile.length > 0 ? PROFILED_STOP_GRACE_MS : STOP_GRACE_MS;
      const stopped = await Promise.race([exit.then(() => true), delay(grace).then(() => false)]);
      if (stopped) return 'exited';
      child.kill('SIGKILL');
      await exit;
      return 'killed';
    },
  };

  const deadline = Date.now() + params.timeoutMs;
  while (Date.now() < deadline) {
    if (state.exited !== null) throw new Error(`server exited (${state.exited}) before it answered:\n${tail}`);
    const status = await probe(params.port, params.readyPath);
    if (status !== null && (params.readyStatus === null || status === params.readyStatus)) return server;
    await delay(PROBE_INTERVAL_MS);
  }
  await server.stop();
  throw new Error(`server did not answer GET ${params.readyPath} within ${params.timeoutMs} ms:\n${tail}`);
}

/** The status of GET path, or null if nothing answered. */
function probe(port: number, path: string): Promise<number | null> {
  return new Promise((resolve) => {
    const request = http.get({ host: '127.0.0.1', port, path, agent: false }, (response) => {
      response.resume();
      resolve(response.statusCode ?? null);
    });
    request.setTimeout(PROBE_TIMEOUT_MS, () => request.destroy());
    request.on('error', () => resolve(null));
  });
}
