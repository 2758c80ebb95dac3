import type request from 'supertest';

/** Keeps a response's Set-Cookie list the way a browser keeps it (an expired cookie is forgotten). */
export function keepCookies(res: request.Response, jar: Map<string, string>): void {
  const raw = res.headers['set-cookie'] as unknown;
  for (const line of Array.isArray(raw) ? (raw as string[]) : []) {
    const [pair] = line.split(';');
    const at = pair.indexOf('=');
    if (/Max-Age=0/.test(line)) jar.delete(pair.slice(0, at));
    else jar.set(pair.slice(0, at), pair.slice(at + 1));
  }
}

/** The jar as the one Cookie header a browser sends back (attributes dropped). */
export const cookieHeader = (jar: Map<string, string>): string => [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
