import { z } from 'zod';

/**
 * Visitors of the public H5 pages (/e, /c): who they are, by the Official Account's web OAuth
 * inside WeChat (server/http/visitor.middleware.ts). Parsed once with the rest of the configuration.
 */

export const visitorEnvSchema = z.object({
  /**
   * Where web OAuth's authorize page is (open.weixin.qq.com by default; the composition root puts
   * the sandbox's `<PUBLIC_BASE_URL>/sandbox/open` in sandbox mode). The visitor's browser is sent
   * there, so it must be reachable from the phone, not only from the server.
   */
  WECHAT_OAUTH_BASE: z.url().optional(),
  /**
   * Signs the visitor cookie and the OAuth state. Without it a random key is made on first use and
   * kept in the database (`settings`), shared by every instance. Changing it signs every visitor
   * out (they are identified again, silently, on their next visit inside WeChat).
   */
  VISITOR_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  /** How long a visitor stays identified by the cookie (default 30 days). */
  VISITOR_COOKIE_MAX_AGE_S: z.coerce
    .number()
    .int()
    .min(60)
    .max(400 * 86_400)
    .default(30 * 86_400),
});

export type VisitorEnv = z.output<typeof visitorEnvSchema>;

export interface VisitorConfig {
  /** null: the real host, or the sandbox's in sandbox mode (the composition root decides). */
  oauthBase: string | null;
  /** null: a random key kept in `settings` (server/modules/visitors/visitor-secret.ts). */
  secret: string | null;
  cookieMaxAgeSeconds: number;
}

export function readVisitorConfig(e: VisitorEnv): VisitorConfig {
  return {
    oauthBase: e.WECHAT_OAUTH_BASE?.replace(/\/+$/, '') ?? null,
    secret: e.VISITOR_SECRET ?? null,
    cookieMaxAgeSeconds: e.VISITOR_COOKIE_MAX_AGE_S,
  };
}
