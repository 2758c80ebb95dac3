import { createHash, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import Router from '@koa/router';
import type { Context } from 'koa';
import type { Metrics } from '../adapters/metrics';
import type { DrainGate } from './drain-gate';
import { HttpError } from './http-error';

export interface OpsRouterDeps {
  /** The database's side of readiness (server/db/readiness.ts). */
  readiness: () => Promise<{ database: boolean; migrations: 'applied' | 'pending' | 'unknown' }>;
  gate: DrainGate;
  metrics: Metrics;
  /** METRICS_TOKEN; null: /metrics answers loopback clients only. */
  metricsToken: string | null;
}

/**
 * Probes and metrics. /healthz (liveness) is in app.ts and never touches the database; /readyz
 * says whether this instance should get traffic: the database answers, every migration has run,
 * and the process is not draining.
 */
export function createOpsRouter(deps: OpsRouterDeps): Router {
  const router = new Router();
  const tokenDigest = deps.metricsToken === null ? null : digest(deps.metricsToken);

  router.get('/readyz', async (ctx) => {
    // Draining: the database may already be closing, and the answer is no whatever it says.
    if (deps.gate.draining) {
      ctx.status = 503;
      ctx.body = { status: 'draining' };
      return;
    }
    const db = await deps.readiness();
    const ready = db.database && db.migrations === 'applied';
    ctx.status = ready ? 200 : 503;
    ctx.body = { status: ready ? 'ready' : 'not_ready', database: db.database ? 'ok' : 'unavailable', migrations: db.migrations };
  });

  router.get('/metrics', async (ctx) => {
    if (tokenDigest !== null) {
      const presented = /^Bearer +(\S+)$/i.exec(ctx.get('Authorization'))?.[1];
      // Compared as SHA-256 digests, in constant time: equal lengths whatever was sent.
      if (presented === undefined || !timingSafeEqual(digest(presented), tokenDigest)) {
        ctx.set('WWW-Authenticate', 'Bearer realm="metrics"');
        throw new HttpError(401, 'unauthorized', 'GET /metrics needs Authorization: Bearer <METRICS_TOKEN>');
      }
    } else if (!fromLoopback(ctx)) {
      throw new HttpError(403, 'metrics_loopback_only', 'Without METRICS_TOKEN, /metrics answers only to loopback clients');
    }
    const exposition = await deps.metrics.exposition();
    ctx.type = exposition.contentType;
    ctx.body = exposition.body;
  });

  return router;
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/**
 * The socket's peer, never ctx.ip: with TRUST_PROXY that is read from X-Forwarded-For, which the
 * client writes. A request carrying a forwarding header came through a proxy, and a proxy on the
 * same host connects from loopback on behalf of anybody: it is not a local client.
 */
function fromLoopback(ctx: Context): boolean {
  if (ctx.get('X-Forwarded-For') || ctx.get('Forwarded') || ctx.get('X-Real-IP')) return false;
  const address = ctx.req.socket.remoteAddress ?? '';
  const v4 = address.startsWith('::ffff:') ? address.slice('::ffff:'.length) : address;
  if (isIP(v4) === 4) return v4.startsWith('127.');
  return address === '::1';
}
