import { createHash, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import Router from '@koa/router';
import type { Context } from 'koa';
import type { Metrics } from '../adapters/metrics';
import { HttpError } from './http-error';

export interface OpsRouterDeps {
  metrics: Metrics;
  /** METRICS_TOKEN; null: /metrics answers loopback clients only. */
  metricsToken: string | null;
}

/** Prometheus metrics: behind METRICS_TOKEN, or for loopback clients only when it is not set. */
export function createOpsRouter(deps: OpsRouterDeps): Router {
  const router = new Router();
  const tokenDigest = deps.metricsToken === null ? null : digest(deps.metricsToken);

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
