import http from 'node:http';
import wechat from 'wechat';
import { SANDBOX_CREDENTIALS } from '../config/config.schema';

/**
 * Benchmark comparison: the `wechat` npm package's middleware (node-webot/wechat 2.1) in safe
 * mode with the same credentials as Flywheel's sandbox, over plain node:http. It verifies
 * msg_signature, decrypts and parses the XML twice (envelope and message), then answers
 * `success`; it stores nothing. Run as a child process by callbacks.bench.ts; listens on PORT.
 */
function startWechatPackage(port: number): void {
  const middleware = wechat(
    {
      token: SANDBOX_CREDENTIALS.wechatToken,
      appid: SANDBOX_CREDENTIALS.wechatAppId,
      encodingAESKey: SANDBOX_CREDENTIALS.wechatAesKey,
    },
    (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('success');
    },
  );

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const request = Object.assign(req, { query: Object.fromEntries(url.searchParams) });
    middleware(request, res, (error?: unknown) => {
      res.writeHead(error === undefined ? 404 : 500, { 'content-type': 'text/plain' });
      res.end(error === undefined ? 'not found' : 'error');
    });
  });
  server.listen(port, '127.0.0.1', () => {
    process.stdout.write(`wechat package listening on port ${port}\n`);
  });
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
}

startWechatPackage(Number(process.env['PORT'] ?? 0));
