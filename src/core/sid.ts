/**
 * The session-id cookie: a readable, non-secret cookie the backend sets beside the HttpOnly refresh
 * cookie, holding the same value as the access token's `sid` claim (see the README's HTTP
 * contract). It tells every tab which server session the browser's refresh cookie belongs to.
 *
 * Returns its value, or `''` when there is none, the page cannot read it (a worker, an api on
 * another site, a sandboxed frame) or `name` is `''` (the check is off).
 */
export function readSid(name: string): string {
  try {
    for (const pair of name ? (globalThis.document?.cookie.split('; ') ?? []) : []) {
      const at = pair.indexOf('=');
      if (pair.slice(0, at) === name) return decodeURIComponent(pair.slice(at + 1));
    }
  } catch {
    // A sandboxed document throws on `cookie`; a malformed value does not decode: no readable sid.
  }
  return '';
}
