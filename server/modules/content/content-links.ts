/**
 * Reading and stamping the content centre's tracked links (`<PUBLIC_BASE_URL>/c/<code>?ch=&ev=&jr=`)
 * where they travel inside other messages: a journey's push carries one as its `url`. Pure, so the
 * journey definition's checks and the engine share it without a service.
 */

/** The material's code when `url` is one of this server's tracked links, else null. */
export function materialCodeOf(url: string, publicBaseUrl: string): string | null {
  const parsed = parseUrl(url);
  const base = parseUrl(publicBaseUrl);
  if (!parsed || !base || parsed.origin !== base.origin) return null;
  const prefix = `${base.pathname.replace(/\/$/, '')}/c/`;
  if (!parsed.pathname.startsWith(prefix)) return null;
  const code = parsed.pathname.slice(prefix.length);
  return /^[A-Za-z0-9_-]{1,16}$/.test(code) ? code : null;
}

/**
 * A tracked link stamped with the journey that sent it (`jr=<journeyId>`), its other parameters
 * kept; any other URL unchanged. The journey goes in a parameter of its own rather than as `ch`:
 * `ch` names a channel code (channels table), whose reaction counts the view as a touch of that
 * channel and applies its tags, and a journey is not one. Stamped when the message is sent, not
 * when the operator picks the material, so a definition copied to another journey (or made from
 * a template) still credits the journey that actually sent it.
 */
export function withJourney(url: string, publicBaseUrl: string, journeyId: number): string {
  if (materialCodeOf(url, publicBaseUrl) === null) return url;
  const parsed = new URL(url);
  parsed.searchParams.set('jr', String(journeyId));
  return parsed.toString();
}

function parseUrl(url: string): URL | null {
  try {
    return new URL(url);
  } catch {
    return null;
  }
}
