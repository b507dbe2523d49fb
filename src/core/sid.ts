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

const SEEN = 'auth-shell.sid-seen:';

/**
 * Whether this browser has seen `api`'s backend set the session-id cookie (a non-secret flag in
 * `localStorage`): what turns the session hint on by default.
 */
export function sidSeen(api: string): boolean {
  try {
    return localStorage.getItem(SEEN + api) === '1';
  } catch {
    return false;
  }
}

/** Remembers whether `api`'s backend sets a session-id cookie this page can read. */
export function markSidSeen(api: string, seen: boolean): void {
  try {
    if (seen !== sidSeen(api)) {
      if (seen) localStorage.setItem(SEEN + api, '1');
      else localStorage.removeItem(SEEN + api);
    }
  } catch {
    // No storage: the hint stays off unless the page turns it on.
  }
}
