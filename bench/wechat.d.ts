/**
 * The parts of the untyped `wechat` package (node-webot/wechat 2.x) the benchmark uses: the
 * middleware factory in safe (encrypted) mode over a plain Node request.
 * @link https://github.com/node-webot/wechat
 */
declare module 'wechat' {
  import type { IncomingMessage, ServerResponse } from 'node:http';

  namespace wechat {
    interface Config {
      token: string;
      appid: string;
      encodingAESKey: string;
      checkSignature?: boolean;
    }

    /** The middleware reads `req.query` (Express/Connect style), so a plain server must set it. */
    type Request = IncomingMessage & {
      query: Record<string, string | undefined>;
      /** The decrypted, parsed message, set before the handler runs. */
      weixin?: Record<string, unknown>;
    };

    type Response = ServerResponse & {
      /** Passive reply; an empty string answers an empty body. */
      reply(content: string): void;
    };

    type Next = (error?: unknown) => void;

    type Handler = (req: Request, res: Response, next: Next) => void;

    type Middleware = (req: Request, res: ServerResponse, next: Next) => void;
  }

  function wechat(config: string | wechat.Config, handler: wechat.Handler): wechat.Middleware;

  export = wechat;
}
