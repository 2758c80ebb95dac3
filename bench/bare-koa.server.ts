import http from 'node:http';
import Koa from 'koa';

/**
 * Benchmark baseline: the cheapest Koa app that still does what a callback route must do at
 * the HTTP level (read the whole body, answer `success`). No routing, crypto, XML or database.
 * Run as a child process by callbacks.bench.ts; listens on PORT.
 */
function startBareKoa(port: number): void {
  const app = new Koa();
  app.use(async (ctx) => {
    const chunks: Buffer[] = [];
    for await (const chunk of ctx.req as AsyncIterable<Buffer>) chunks.push(chunk);
    ctx.type = 'text/plain';
    if (Buffer.concat(chunks).length === 0) {
      ctx.status = 400;
      ctx.body = 'empty body';
      return;
    }
    ctx.body = 'success';
  });
  const server = http.createServer(app.callback());
  server.listen(port, '127.0.0.1', () => {
    process.stdout.write(`bare Koa listening on port ${port}\n`);
  });
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
}

startBareKoa(Number(process.env['PORT'] ?? 0));
