/**
 * A logout that has not reached the server yet, remembered across page loads: a navigation or a
 * closed tab can cut the request off, and the refresh cookie would then stay valid on the server.
 * The mark is one non-secret value per api in `localStorage` — the session id it ends, or `1` when
 * that is unknown (never a token, never user data); the next page of this origin completes the
 * logout before it restores or logs in, unless the session-id cookie shows that another session
 * has replaced that one meanwhile. Without storage (disabled, sandboxed) only the in-memory retry
 * remains.
 */
const PREFIX = 'auth-shell.pending-logout:';

/** Sets the mark for `api` (its canonical key) to the session `sid` ends (`null`: unknown), or clears it (`false`). */
export function markLogout(api: string, sid: string | null | false): void {
  try {
    if (sid === false) localStorage.removeItem(PREFIX + api);
    else localStorage.setItem(PREFIX + api, sid ?? '1');
  } catch {
    // No storage here: the session still retries in memory while the page lives.
  }
}

/** The logout owed for `api`: the session id it ends (`null`: unknown), or `false` when none is owed. */
export function logoutPending(api: string): string | null | false {
  try {
    const mark = localStorage.getItem(PREFIX + api);
    return mark === null ? false : mark === '1' ? null : mark;
  } catch {
    return false;
  }
}
