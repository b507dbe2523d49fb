/**
 * A logout that has not reached the server yet, remembered across page loads: a navigation or a
 * closed tab can cut the request off, and the refresh cookie would then stay valid on the server.
 * The mark is one non-secret flag per api in `localStorage` (never a token, never user data); the
 * next page of this origin completes the logout before it restores or logs in. Without storage
 * (disabled, sandboxed) only the in-memory retry remains.
 */
const PREFIX = 'auth-shell.pending-logout:';

/** Sets or clears the mark for `api` (its canonical key). */
export function markLogout(api: string, pending: boolean): void {
  try {
    if (pending) localStorage.setItem(PREFIX + api, '1');
    else localStorage.removeItem(PREFIX + api);
  } catch {
    // No storage here: the session still retries in memory while the page lives.
  }
}

/** Whether a logout for `api` is still owed to the server. */
export function logoutPending(api: string): boolean {
  try {
    return localStorage.getItem(PREFIX + api) === '1';
  } catch {
    return false;
  }
}
